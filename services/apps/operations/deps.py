"""The collaborators of the apps use cases, passed to each as one bundle (``deps``).

``bootstrap.connect`` makes the real one (Mongo stores, the bus, the other contexts
over ``shared.client``), ``tests/fakes.py`` the fake one. The outbound ports below are
the seams of docs/runtime.md: the adapters in ``adapters/`` speak them over HTTP and
the bus, the fakes in ``tests/fakes.py`` pass the same contract tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from services.apps.domain.models import LogLine
from services.apps.operations.local_feed import LocalLogFeed
from services.apps.storage.ports import Stores
from shared.bus import Publisher
from shared.events import EventRecord, Recorder
from shared.events.model import now

# One reply of a provisioner command (docs/runtime.md): ``{"message": "..."}`` or the
# last ``{"final": true, "error": "...", "result": {...}}``.
Reply = dict[str, Any]


@dataclass(frozen=True)
class Placement:
    """What the provisioner resolved for a new (or moved) app (apps.md §2.3)."""

    pool: str
    provisioner: str
    cluster: str
    plan: dict[str, Any]
    routers: list[dict[str, Any]]  # [{"name", "opts"}]
    platform: str
    platform_version: str
    platform_disabled: bool = False


@dataclass
class AppUnits:
    """Live units of one app in the provisioner (tsuru Unit objects, apps.md §1.3),
    ``error`` when the provisioner could not say."""

    units: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


class Provisioner(Protocol):
    def placement(self, request: dict[str, Any]) -> Placement: ...
    def units(self, apps: list[str]) -> dict[str, AppUnits]: ...  # one call per page
    def command(
        self, command: str, app: dict[str, Any], args: dict[str, Any], *, event: str = ""
    ) -> Iterator[Reply]: ...
    def unit_status(self, app: str, unit: str, status: str) -> None: ...
    def register_unit(self, app: str, unit: str, custom_data: Any) -> None: ...
    # Unit autoscale, stored and evaluated by the provisioner runtime.
    def autoscale(self, app: str) -> list[dict[str, Any]]: ...
    def set_autoscale(
        self, app: str, spec: dict[str, Any], quota_limit: int, plan: dict[str, Any]
    ) -> None: ...  # 400 ``unable to validate autoscale spec: ...``
    def remove_autoscale(self, app: str, process: str) -> None: ...
    def node_status(self, report: dict[str, Any]) -> list[dict[str, Any]]: ...
    def shell(self, app: str, opts: ShellOptions) -> ShellChannel: ...


@dataclass(frozen=True)
class ShellOptions:
    """Where ``tsuru app-shell`` attaches: a unit (default: the first), or a fresh
    isolated one; the terminal's size and TERM."""

    unit: str = ""
    isolated: bool = False
    width: int = 0
    height: int = 0
    term: str = ""


class ShellChannel(Protocol):
    """A shell's terminal bytes, both ways (docs/runtime.md "Shell")."""

    def send(self, data: bytes) -> None: ...
    def recv(self) -> bytes: ...  # b"" once the shell ended
    def close(self) -> None: ...


class Archives(Protocol):
    """Uploaded deploy archives kept until the provisioner fetched them
    (adapters/archives.py)."""

    def receive(self) -> IO[bytes]: ...  # where an upload is written as it arrives
    def keep(self, upload: Any, archive_id: str) -> int: ...  # size in bytes
    def path(self, archive_id: str) -> Path | None: ...
    def rename(self, archive_id: str, new_id: str) -> None: ...
    def remove(self, archive_id: str) -> None: ...
    def sweep(self, older_than: float = ...) -> int: ...


class EventLog(Protocol):
    """Reading events back (a deploy's log and outcome; shared.events storage)."""

    def get(self, event_id: str) -> EventRecord | None: ...


class Auth(Protocol):
    def app_token(self, app: str) -> str: ...  # stable per app (created on first ask)
    def revoke_app_token(self, app: str) -> None: ...
    def reserve_app(self, user: str, team: str) -> None: ...  # 403 Quota exceeded
    def release_app(self, user: str, team: str) -> None: ...
    def team_exists(self, team: str) -> bool: ...
    def team_names(self) -> list[str]: ...


class LogSubscription(Protocol):
    def get(self, timeout: float) -> list[LogLine] | None:
        """New lines (in order), [] after ``timeout`` seconds without any, None once
        the feed is gone. Lines a slow reader could not take are dropped (``dropped``)."""
        ...

    @property
    def dropped(self) -> int: ...


class LogFeed(Protocol):
    """New app log lines, fanned out to every instance following an app (bus
    ``apps.logs.<app>``, docs/runtime.md): no database polling."""

    def publish(self, app: str, lines: list[LogLine]) -> None: ...
    def follow(self, app: str) -> AbstractContextManager[LogSubscription]: ...


class Catalog(Protocol):
    def binds(self, app: str) -> list[dict[str, str]]: ...  # [{"service","instance","plan"}]


@dataclass(frozen=True)
class Config:
    # App quota of new apps (tsuru's quota:units-per-app); -1: unlimited.
    units_per_app: int = -1
    log_max_lines: int = 10_000  # kept per app
    apps_domain: str = "tsubame.localhost"
    # The gateway's public port when it is not its scheme's default (0: none): app
    # addresses shown to users carry it, so the address works as given.
    apps_port: int = 0
    # The API's own host name (TSUBAME_PUBLIC_URL's): never an app's cname.
    api_host: str = ""
    # Where units find the app's code (tsuru's TSURU_APPDIR).
    app_dir: str = "/home/application/current"

    @property
    def address_domain(self) -> str:
        """What follows ``<app>.`` in an app's address: the domain, and the port."""
        return f"{self.apps_domain}:{self.apps_port}" if self.apps_port else self.apps_domain


@dataclass
class Deps:
    stores: Stores
    recorder: Recorder
    publisher: Publisher
    provisioner: Provisioner
    auth: Auth
    catalog: Catalog
    archives: Archives
    event_log: EventLog
    config: Config = field(default_factory=Config)
    # In-process unless wired to the bus (bootstrap): enough for one process and tests.
    log_feed: LogFeed = field(default_factory=LocalLogFeed)
    clock: Callable[[], datetime] = now  # UTC, at the storage's precision
