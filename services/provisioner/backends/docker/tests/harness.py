"""How the tests make docker backends over the session's podman engines and look at them."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import docker

from services.provisioner.backends.archive import ArchiveLimits
from services.provisioner.backends.base import (
    LogLine,
    LogSink,
    NodeInfo,
    Release,
    UnitSpec,
    UnitState,
)
from services.provisioner.backends.docker import DockerBackend, DockerConfig
from services.provisioner.backends.docker.config import APP_DIR, UNIT_PORT
from services.provisioner.backends.docker.stopping import running_units, stop_all


class Sink:
    """Collects unit output (thread-safe), with a wait for a line to arrive."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self._cond = threading.Condition()

    def __call__(self, line: LogLine) -> None:
        with self._cond:
            self.lines.append(line)
            self._cond.notify_all()

    def of(self, unit: str) -> list[str]:
        with self._cond:
            return [line.message for line in self.lines if line.unit == unit]

    def wait_for(self, unit: str, text: str, timeout: float = 20.0, count: int = 1) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    line.message
                    for line in self.lines
                    if line.unit == unit and text in line.message
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [line.message for line in self.lines if line.unit == unit]
                    raise AssertionError(f"{text!r} x{count} not logged by {unit}: {seen[-20:]}")
                self._cond.wait(left)


def make_backend(
    sink: LogSink,
    engines: Sequence[str],
    namespace: str,
    state_dir: str,
    archive_limits: ArchiveLimits | None = None,
) -> DockerBackend:
    config = DockerConfig(
        state_dir=state_dir,
        namespace=namespace,
        poll_interval=0.2,
        backoff_max=4.0,
        archive=archive_limits or ArchiveLimits(),
    )
    nodes = [NodeInfo(address=a, pool="p") for a in engines]
    return DockerBackend(config, lambda: nodes, sink)


class DockerHarness:
    """The contract suite's view of the docker backend (services/.../tests/support.py)."""

    name = "docker"
    platform = "python"
    unit_port = UNIT_PORT  # tsuru's PORT inside a container, behind the published port

    def __init__(self, engines: Sequence[str], namespace: str, base: Path) -> None:
        self.engines = list(engines)
        self.namespace = namespace
        self.base = base
        self.state_dir = str(base / "state")

    def make(self, sink: LogSink, *, archive_limits: ArchiveLimits | None = None) -> DockerBackend:
        return make_backend(sink, self.engines, self.namespace, self.state_dir, archive_limits)

    def owner_factory(self) -> tuple[str, dict[str, object]]:
        kwargs = {"engines": self.engines, "namespace": self.namespace, "state_dir": self.state_dir}
        return f"{__name__}:make_backend", kwargs

    def stop_all(self) -> None:
        stop_all(self.engines, self.namespace, timeout=5)

    def leftovers(self) -> list[str]:
        return running_units(self.engines, self.namespace)

    def _layers(self, release: Release) -> list[str]:
        """The host directories of the release image's layers, on every node holding it."""
        found = []
        for address in self.engines:
            client = docker.DockerClient(base_url=address)
            try:
                image = client.images.get(release.image)
            except docker.errors.ImageNotFound:
                continue
            finally:
                client.close()
            data = image.attrs.get("GraphDriver", {}).get("Data", {})
            found += [data.get("UpperDir", "")] + str(data.get("LowerDir", "")).split(":")
        return [layer for layer in found if layer]

    def node_path(self, release: Release, relpath: str) -> str:
        """Where the app's file really is on the node's host: in its image's layers."""
        for layer in self._layers(release):
            path = os.path.join(layer, APP_DIR.lstrip("/"), relpath)
            if os.path.exists(path):
                return path
        raise AssertionError(f"{relpath} of {release.image} is in no layer on the nodes")

    def forbidden_writes(self, release: Release) -> list[str]:
        layers = self._layers(release)
        return [
            *(os.path.join(layer, APP_DIR.lstrip("/"), "owned.txt") for layer in layers[:2]),
            os.path.join(os.path.dirname(self.engines[0][len("unix://") :]), "owned.txt"),
            "/etc/owned.txt",
            "/owned.txt",
            "/usr/owned.txt",
            "/var/lib/owned.txt",
            str(self.base / "owned.txt"),
        ]

    def volume(self, name: str) -> tuple[str, str]:
        """A named volume on the node units go to by default (the first), world-writable
        as the contract asks: (its name, its files' directory on this host)."""
        volume = f"{self.namespace}-{name}-{secrets.token_hex(3)}".replace("_", "-")
        client = docker.DockerClient(base_url=self.engines[0])
        try:
            made = client.volumes.create(volume, labels={"tsubame.namespace": self.namespace})
            files = str(made.attrs["Mountpoint"])
        finally:
            client.close()
        os.chmod(files, 0o777)
        return volume, files


def unit_spec(release: Release, unit: str, node: str = "", **changes: object) -> UnitSpec:
    fields: dict[str, object] = {
        "id": unit,
        "app": release.app,
        "process": "web",
        "version": release.version,
        "release": release,
        "command": release.processes["web"],
        "env": {"GREETING": "hi", "TSURU_APPNAME": release.app},
        "node": node,
    }
    fields.update(changes)
    return UnitSpec(**fields)  # type: ignore[arg-type]


def wait_state(
    backend: DockerBackend,
    unit: str,
    check: Callable[[UnitState], bool],
    timeout: float = 30.0,
) -> UnitState:
    deadline = time.monotonic() + timeout
    last: UnitState | None = None
    while time.monotonic() < deadline:
        found = [s for s in backend.units() if s.id == unit]
        if found:
            last = found[0]
            if check(last):
                return last
        time.sleep(0.1)
    raise AssertionError(f"unit {unit} never reached the state wanted; last: {last}")
