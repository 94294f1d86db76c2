"""The apps bundle on fakes, and fakes of the other contexts it talks to.

The peers' fakes follow the seams of docs/runtime.md (placement, units, commands,
app tokens, quota, binds).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services.apps.domain.errors import QuotaExceeded
from services.apps.operations.deps import AppUnits, Config, Deps, Placement, Reply
from services.apps.storage.memory import memory_stores
from shared.errors import Invalid
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder

SMALL_PLAN = {"name": "small", "memory": 268435456, "swap": 0, "cpumilli": 0, "cpushare": 100,
              "default": True}  # fmt: skip


@dataclass
class SentCommand:
    command: str
    app: dict[str, Any]
    args: dict[str, Any]
    event: str


@dataclass
class FakeProvisioner:
    """A provisioner world: pools, plans and routers placement resolves against,
    the units of each app, and the commands it was sent (each answers ``replies``)."""

    pools: list[str] = field(default_factory=lambda: ["default"])
    plans: dict[str, dict[str, Any]] = field(default_factory=lambda: {"small": dict(SMALL_PLAN)})
    routers: list[str] = field(default_factory=lambda: ["tsubame"])
    platforms: list[str] = field(default_factory=lambda: ["python"])
    units_by_app: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sent: list[SentCommand] = field(default_factory=list)
    units_calls: list[list[str]] = field(default_factory=list)
    statuses: list[tuple[str, str, str]] = field(default_factory=list)
    registered: list[tuple[str, str, Any]] = field(default_factory=list)
    command_error: str = ""
    # Adopts and finishes the events handed over with commands, as the worker does.
    recorder: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def placement(self, request: dict[str, Any]) -> Placement:
        pool = request.get("pool") or self.pools[0]
        if pool not in self.pools:
            raise Invalid("Pool does not exist.")
        plan_name = request.get("plan") or next(iter(self.plans))
        if plan_name not in self.plans:
            raise Invalid("plan not found")
        router = request.get("router") or ""
        if router and router != "none" and router not in self.routers:
            raise Invalid(f'router "{router}" not found')
        routers = []
        if router != "none":
            routers = [{"name": router or self.routers[0], "opts": request.get("routeropts") or {}}]
        platform, _, version = str(request.get("platform") or "").partition(":")
        if platform and platform not in self.platforms:
            raise Invalid("Invalid platform")
        return Placement(
            pool=pool,
            provisioner="process",
            cluster="",
            plan=dict(self.plans[plan_name]),
            routers=routers,
            platform=platform,
            platform_version=version,
        )

    def units(self, apps: list[str]) -> dict[str, AppUnits]:
        with self.lock:
            self.units_calls.append(list(apps))
        return {a: AppUnits(units=list(self.units_by_app.get(a, []))) for a in apps}

    def command(
        self, command: str, app: dict[str, Any], args: dict[str, Any], *, event: str = ""
    ) -> Iterator[Reply]:
        with self.lock:
            self.sent.append(SentCommand(command, app, args, event))
        adopted = self.recorder.adopt(event) if event and self.recorder is not None else None
        message = f"{command} {app['name']}\n"
        if adopted is not None:
            adopted.log(message)
        yield {"message": message}
        final: dict[str, Any] = {"final": True, "error": self.command_error, "result": {}}
        if adopted is not None:
            adopted.done(self.command_error or None)
        yield final

    def unit_status(self, app: str, unit: str, status: str) -> None:
        self.statuses.append((app, unit, status))

    def register_unit(self, app: str, unit: str, custom_data: Any) -> None:
        self.registered.append((app, unit, custom_data))


@dataclass
class FakeAuth:
    teams: list[str] = field(default_factory=lambda: ["blue"])
    user_limits: dict[str, int] = field(default_factory=dict)
    inuse: dict[str, int] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app_token(self, app: str) -> str:
        return hashlib.sha256(f"app-token:{app}".encode()).hexdigest()

    def revoke_app_token(self, app: str) -> None:
        self.revoked.append(app)

    def reserve_app(self, user: str, team: str) -> None:
        with self.lock:
            limit = self.user_limits.get(user, -1)
            if limit > -1 and self.inuse.get(user, 0) >= limit:
                raise QuotaExceeded()
            self.inuse[user] = self.inuse.get(user, 0) + 1

    def release_app(self, user: str, team: str) -> None:
        with self.lock:
            self.inuse[user] = max(self.inuse.get(user, 0) - 1, 0)

    def team_exists(self, team: str) -> bool:
        return team in self.teams

    def team_names(self) -> list[str]:
        return list(self.teams)


@dataclass
class FakeCatalog:
    bound: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def binds(self, app: str) -> list[dict[str, str]]:
        return list(self.bound.get(app, []))


def fake_deps(config: Config | None = None) -> Deps:
    recorder = FakeRecorder()
    return Deps(
        stores=memory_stores(),
        recorder=recorder,
        publisher=RecordingPublisher(),
        provisioner=FakeProvisioner(recorder=recorder),
        auth=FakeAuth(),
        catalog=FakeCatalog(),
        config=config or Config(),
    )
