"""The apps context's objects: plain dataclasses, no I/O.

``App`` is the stored app record (apps.md §1.1 lists what clients see of it). The
plan is a snapshot taken when the app got it (tsuru copies the plan into the app), so
a plan changed or removed later in the provisioner does not change running apps.
Units, addresses and the app quota's ``inuse`` are not stored here: the provisioner
owns them and answers them live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

UNLIMITED = -1
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


@dataclass
class Plan:
    name: str = ""
    memory: int = 0
    swap: int = 0
    cpumilli: int = 0
    cpushare: int = 0
    default: bool = False
    # Per-app overrides (``PUT /apps/{app}`` planoverride.*); None: not overridden.
    override_memory: int | None = None
    override_cpumilli: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "memory": self.memory,
            "swap": self.swap,
            "cpumilli": self.cpumilli,
            "cpushare": self.cpushare,
            "default": self.default,
            "override_memory": self.override_memory,
            "override_cpumilli": self.override_cpumilli,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> Plan:
        raw = raw or {}

        def opt(key: str) -> int | None:
            value = raw.get(key)
            return int(value) if value is not None else None

        return cls(
            name=str(raw.get("name", "")),
            memory=int(raw.get("memory", 0) or 0),
            swap=int(raw.get("swap", 0) or 0),
            cpumilli=int(raw.get("cpumilli", 0) or 0),
            cpushare=int(raw.get("cpushare", 0) or 0),
            default=bool(raw.get("default", False)),
            override_memory=opt("override_memory"),
            override_cpumilli=opt("override_cpumilli"),
        )


@dataclass
class AppRouter:
    name: str
    opts: dict[str, str] = field(default_factory=dict)
    type: str = ""  # the router's type, as the provisioner resolved it


@dataclass
class EnvVar:
    """A variable set on the app (``POST /apps/{app}/env``)."""

    name: str
    value: str = ""
    alias: str = ""
    public: bool = True
    managed_by: str = ""


@dataclass
class ServiceEnv:
    """A variable a bound service instance gave the app (catalog.md §c.5)."""

    name: str
    value: str
    service: str
    instance: str


@dataclass
class MetadataItem:
    name: str
    value: str = ""


@dataclass
class Metadata:
    labels: list[MetadataItem] = field(default_factory=list)
    annotations: list[MetadataItem] = field(default_factory=list)


@dataclass
class Certificate:
    """A TLS certificate of one of the app's names (cname or router address)."""

    cname: str
    certificate: str  # PEM chain
    key: str  # PEM private key: never shown back (tsuru shows certificates only)


@dataclass
class App:
    name: str
    pool: str = ""
    team_owner: str = ""
    teams: list[str] = field(default_factory=list)
    owner: str = ""  # e-mail of the creating user (or the token's name)
    platform: str = ""
    platform_version: str = ""  # "" = latest
    plan: Plan = field(default_factory=Plan)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    metadata: Metadata = field(default_factory=Metadata)
    routers: list[AppRouter] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)
    env: dict[str, EnvVar] = field(default_factory=dict)
    service_envs: list[ServiceEnv] = field(default_factory=list)
    quota_limit: int = UNLIMITED  # units the app may use (app quota)
    deploys: int = 0
    # Set by image/rollback deploys and platform changes: the next deploy rebuilds
    # from the platform base (tsuru's UpdatePlatform).
    update_platform: bool = False
    # The app whose address this app answers at after a swap ("" = its own name).
    swapped_with: str = ""
    provisioner: str = ""  # resolved at creation from the pool (informational)
    cluster: str = ""
    created_at: datetime = ZERO_TIME
    # Insertion order key: tsuru lists apps in storage order.
    seq: float = 0.0

    def contexts(self) -> list[tuple[str, str]]:
        """Where a permission on this app may be held (apps.md §0.6)."""
        ctxs = [("app", self.name), ("pool", self.pool)]
        ctxs.extend(("team", t) for t in self.teams)
        return ctxs

    @property
    def platform_label(self) -> str:
        """``python`` or ``python:v3`` when pinned (app info's ``platform``)."""
        if self.platform and self.platform_version:
            return f"{self.platform}:{self.platform_version}"
        return self.platform


@dataclass(frozen=True)
class LogLine:
    """One app log entry (apps.md §7). ``seq`` is its position in the app's log (given
    by the store), so a follower can tell a line it already has from a new one."""

    date: str  # RFC 3339 with nanoseconds, UTC, as tsuru prints it
    message: str
    source: str = "app"
    unit: str = ""
    seq: int = -1


@dataclass(frozen=True)
class AppQuery:
    """Filters of ``GET /apps`` (apps.md §1.2) plus the caller's visibility.

    ``visible_*`` are OR-ed (an app visible through any of them is listed); None in
    all three means "every app" (a global grant). The other fields are AND-ed.
    """

    # tsuru's unanchored regular expression on names, compiled by the caller.
    name_matches: Callable[[str], bool] | None = None
    platform: str = ""
    platform_version: str | None = None  # None: any; "": only apps with no pinned version
    team_owner: str = ""
    owner: str = ""
    pool: str = ""
    tags: tuple[str, ...] = ()
    everything: bool = True
    visible_teams: tuple[str, ...] = ()
    visible_apps: tuple[str, ...] = ()
    visible_pools: tuple[str, ...] = ()

    def matches(self, app: App) -> bool:
        """The reference semantics (the memory store's; the Mongo store checks what
        its indexed queries read with it)."""
        if not self.everything and not (
            any(t in self.visible_teams for t in app.teams)
            or app.name in self.visible_apps
            or app.pool in self.visible_pools
        ):
            return False
        for attr in ("platform", "team_owner", "owner", "pool"):
            want = getattr(self, attr)
            if want and getattr(app, attr) != want:
                return False
        if self.platform_version is not None and app.platform_version != self.platform_version:
            return False
        if any(t not in app.tags for t in self.tags):
            return False
        return self.name_matches is None or self.name_matches(app.name)
