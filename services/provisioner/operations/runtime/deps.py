"""The collaborators of the runtime operations, passed as one bundle, and the ports of
the outbound adapters they use (``adapters/``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from services.provisioner.backends.base import Backend, Healthcheck, LogLine
from services.provisioner.storage.ports import Stores
from services.provisioner.storage.runtime_ports import RuntimeStores
from shared.bus import Publisher
from shared.events import Recorder


class ArchiveSource(Protocol):
    def fetch(self, url: str, dest: str, max_bytes: int) -> int:
        """Write the archive at ``url`` to the file ``dest``; its size. Raises
        ArchiveError with a message for the user."""
        ...


@dataclass(frozen=True)
class Health:
    """One healthcheck: ``error`` empty when it passed; ``answered`` when the unit gave an
    HTTP answer (tsuru counts only those against ``allowed_failures``)."""

    error: str = ""
    answered: bool = True


class HealthChecker(Protocol):
    def check(self, address: str, healthcheck: Healthcheck, unit: str) -> Health:
        """One HTTP healthcheck of a unit (``unit`` names it in tsuru's error texts)."""
        ...


class AppLog(Protocol):
    """The app log as the runtime feeds it (``provisioner.unit.logs``)."""

    def unit_line(self, line: LogLine) -> None: ...
    def write(self, app: str, source: str, unit: str, text: str) -> None: ...
    def last_lines(self, units: Sequence[str], limit: int = 10) -> list[LogLine]: ...


class UsageReader(Protocol):
    def cpu_seconds(self, units: Sequence[str]) -> dict[str, float]:
        """CPU seconds each running unit's processes used so far (others left out)."""
        ...


class VolumeDirs(Protocol):
    def source(self, volume: str) -> str:
        """The host directory (process backend) holding ``volume``'s files, made if new."""
        ...


class NodeHealth(Protocol):
    """Whether a docker node answers now (``ready``) or not (``error``), briefly cached."""

    def status(self, address: str) -> str: ...
    def check(self, address: str) -> str:
        """Asked now (the healer's look every second), the cache refreshed."""
        ...


class NodeRunner(Protocol):
    def sync_node_containers(self, node: str, wanted: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """The docker node runs exactly ``wanted`` node containers; the errors met."""
        ...

    def apply_node_container(
        self, node: str, name: str, config: Mapping[str, Any] | None, *, recreate: bool
    ) -> str:
        """Node container ``name`` on ``node`` now: removed (``config`` None) or running
        ``config`` (afresh with ``recreate``); what was done. Raises BackendError."""
        ...


class PlatformImages(Protocol):
    """Platform images on the docker nodes (no registry: built or copied node to node)."""

    def has_image(self, node: str, image: str) -> bool: ...

    def copy_image(self, node: str, image: str) -> bool:
        """Copy ``image`` to ``node`` from a node holding it; False when none does."""
        ...

    def build_image(
        self,
        node: str,
        dockerfile: str,
        tags: list[str],
        output: Callable[[str], None],
        cancel: threading.Event | None = None,
        platform: str = "",
    ) -> str:
        """Build ``dockerfile`` on ``node`` (its FROM images present), tagged ``tags``,
        labelled as a build of ``platform``."""
        ...

    def platform_images(self, node: str) -> list[tuple[str, str, list[str]]]:
        """(id, platform, names) of the stack's platform images on ``node``."""
        ...

    def remove_images(self, node: str, names: Sequence[str], platform: str = "") -> list[str]:
        """``names`` off ``node``, then the unnamed images a build of ``platform`` left;
        what was removed. Raises BackendError."""
        ...


class Host(Protocol):
    """The machine this worker runs on: who it is and whether a pid still lives."""

    name: str
    pid: int

    def alive(self, pid: int) -> bool: ...


class Touched:
    """The apps whose desired state this worker changed since the reconciler last
    looked (marked when a command, a move or a removal is done with them, whatever its
    outcome): the reconciler's next tick reads those apps, not every app."""

    def __init__(self) -> None:
        self._apps: set[str] = set()
        self._lock = threading.Lock()

    def mark(self, apps: Iterable[str]) -> None:
        with self._lock:
            self._apps.update(a for a in apps if a)

    def take(self) -> set[str]:
        with self._lock:
            taken, self._apps = self._apps, set()
        return taken


@dataclass(frozen=True)
class RuntimeConfig:
    apps_domain: str = "tsubame.localhost"
    # Seconds a leaving unit stays up once out of the route (gateways catch up).
    drain_seconds: float = 2.0
    # How long a deploy waits for new units to be healthy (tsuru.yaml may say more).
    healthcheck_timeout: float = 120.0
    healthcheck_interval: float = 1.0
    lease_ttl: float = 20.0
    lease_wait: float = 900.0  # how long a command waits for another one on its app
    archives_dir: str = ""  # where each version's source archive is kept
    archive_max_bytes: int = 512 << 20
    reconcile_interval: float = 2.0
    # Seconds between two full passes (every app's desired state, units and route read),
    # the safety net of the ticks that read only the apps seen or marked as changed.
    reconcile_full_interval: float = 60.0
    autoscale_interval: float = 15.0
    # The provisioner of pools that name none (Config.default_provisioner).
    default_provisioner: str = "process"


@dataclass
class RuntimeDeps:
    stores: RuntimeStores
    backend: Backend
    recorder: Recorder
    publisher: Publisher
    archives: ArchiveSource
    health: HealthChecker
    app_log: AppLog
    usage: UsageReader
    host: Host
    config: RuntimeConfig = field(default_factory=RuntimeConfig)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # The catalogue's stores (nodes reported, the default pool); None in some tests.
    catalogue: Stores | None = None
    # Where volumes bound to apps live on this machine (None: no volume is mounted).
    volume_dirs: VolumeDirs | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    # The docker nodes' health (None: no docker backend; every node counts as ready).
    node_health: NodeHealth | None = None
    # Runs node containers on docker nodes (None: no docker backend).
    node_runner: NodeRunner | None = None
    # Apps this worker changed, for its reconciler (see Touched).
    touched: Touched = field(default_factory=Touched)
    # Builds and copies platform images on docker nodes (None: no docker backend).
    platform_images: PlatformImages | None = None
