"""The collaborators of the provisioner use cases, passed to each as one bundle (``deps``).

It grows with the context: its stores (``storage/ports.py``), its outbound clients
(``adapters/``), its configuration. ``bootstrap.connect`` makes the real one,
``tests/fakes.py`` the fake one. The worker's runtime has its own bundle
(``operations/runtime/deps.py``), made from this one by ``bootstrap.runtime_deps``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from services.provisioner.operations.runtime.shells import ShellOpener
from services.provisioner.storage.ports import Stores
from services.provisioner.storage.runtime_ports import RuntimeStores
from shared.bus import Publisher
from shared.events import Recorder

PROCESS = "process"
DOCKER = "docker"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BuiltinRouter:
    """A router of the configuration (tsuru's ``routers:<name>``), not stored."""

    name: str
    type: str
    default: bool = False
    config: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    # The provisioner of pools that name none (tsuru: ``provisioner``, default docker).
    default_provisioner: str = PROCESS
    # Every provisioner this stack runs (``docker`` once engines are configured).
    provisioners: tuple[str, ...] = (PROCESS,)
    # The built-in router: the gateway routes app traffic itself.
    routers: tuple[BuiltinRouter, ...] = (BuiltinRouter("tsubame", "gateway", default=True),)
    # Prefix of platform image names (tsuru's ``docker:registry``; empty: none).
    registry: str = ""
    # The stack's namespace as an image path component (empty: none): platform images
    # are ``<registry><image_namespace>/tsuru/<name>:v<N>``, so stacks sharing docker
    # engines never overwrite each other's (see ``operations/platforms.image_name``).
    image_namespace: str = ""
    # tsuru's ``volume-plans``: plan -> provisioner -> opts.
    volume_plans: dict[str, dict[str, dict[str, str]]] = field(
        default_factory=lambda: {"local": {PROCESS: {"driver": "local"}}}
    )


class Writer(Protocol):
    """Where a streaming operation writes its lines (the client's x-json-stream)."""

    def write(self, message: str) -> object: ...


# A streaming operation's body: checked in the request, run while the answer streams.
Body = Callable[[Writer], None]


@dataclass(frozen=True)
class AppRef:
    """An app as the apps context describes it (``GET /internal/apps/{app}``)."""

    name: str
    team_owner: str = ""
    teams: tuple[str, ...] = ()
    pool: str = ""
    platform: str = ""

    def contexts(self) -> list[tuple[str, str]]:
        """tsuru's permission contexts of an app (apps.md §0.6)."""
        return [("app", self.name), *(("team", t) for t in self.teams), ("pool", self.pool)]


class Directory(Protocol):
    """Names that live in other contexts (pool constraints filter them)."""

    def team_names(self) -> list[str]: ...  # auth
    def service_names(self) -> list[str]: ...  # catalog


class Apps(Protocol):
    """The apps context, asked before a pool or platform goes and about an app."""

    def pool_apps(self, pool: str) -> list[str]: ...
    def platform_apps(self, platform: str) -> list[str]: ...
    def app(self, name: str) -> AppRef | None: ...


class Units(Protocol):
    """The runtime's units, as tsuru's Unit objects (apps.md §1.3)."""

    def all(self) -> list[dict[str, Any]]: ...
    def by_node(self, address: str) -> list[dict[str, Any]]: ...
    def by_app(self, app: str) -> list[dict[str, Any]]: ...


class Restarter(Protocol):
    """Restarts an app's units, writing tsuru's restart lines (volume bind/unbind)."""

    def restart(self, app: str, out: Writer) -> None: ...


class RuntimeCommands(Protocol):
    """Commands of the provisioner's worker run from its web process (unit moves),
    their lines written to ``out`` as they come; the result, or RuntimeFailed."""

    def run(self, command: str, args: dict[str, Any], out: Writer) -> dict[str, Any]: ...


@dataclass
class Deps:
    stores: Stores
    recorder: Recorder
    publisher: Publisher
    directory: Directory
    apps: Apps
    restarter: Restarter
    runtime: RuntimeStores  # the runtime's stores (storage/runtime_ports.py)
    units: Units
    config: Config = field(default_factory=Config)
    clock: Callable[[], datetime] = utcnow
    # Interactive shells beside units (``tsuru app-shell``); None: not on this instance.
    shells: ShellOpener | None = None
    # The worker's unit moves (None: this process cannot reach a worker).
    runtime_commands: RuntimeCommands | None = None

    def commands(self) -> RuntimeCommands:
        if self.runtime_commands is None:
            from services.provisioner.domain.errors import RuntimeUnavailable

            raise RuntimeUnavailable()
        return self.runtime_commands
