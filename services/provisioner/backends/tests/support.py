"""What the backend contract suite needs from a backend's tests, and its helpers."""

from __future__ import annotations

import http.client
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from services.provisioner.backends.archive import ArchiveLimits
from services.provisioner.backends.base import (
    Backend,
    BuildRequest,
    Healthcheck,
    Hooks,
    Limits,
    LogLine,
    LogSink,
    Mount,
    Release,
    UnitSpec,
    UnitState,
)
from tests.apps import sample_archive

GREETING = "olá, 世界"


class Harness(Protocol):
    """A backend under contract: how to make one and how to look at the machine."""

    name: str
    platform: str  # the platform the sample app builds with ("python")

    def make(self, sink: LogSink, *, archive_limits: ArchiveLimits | None = None) -> Backend:
        """A new backend instance on the same machine/engines (state shared)."""
        ...

    def owner_factory(self) -> tuple[str, dict[str, Any]]:
        """("module:function", kwargs): ``function(sink=..., **kwargs)`` makes a backend
        in another process (for the kill -9 test)."""
        ...

    def stop_all(self) -> None:
        """What a stack does when it stops: every unit of this backend stops."""
        ...

    def leftovers(self) -> list[str]:
        """Anything of a unit still running (pids, containers); [] when clean."""
        ...

    def node_path(self, release: Release, relpath: str) -> str:
        """Where a release's file is on the node (what another app must not read)."""
        ...

    def forbidden_writes(self, release: Release) -> list[str]:
        """Paths outside its own directories a unit of ``release``'s app tries to write."""
        ...

    def volume(self, name: str) -> tuple[str, str]:
        """A fresh volume any app user may write: (``Mount.source``, the host directory
        holding its files) — the same path for the process backend, a volume name and
        its mountpoint for docker."""
        ...


def unit_port(harness: Harness, state: UnitState) -> str:
    """The PORT a unit sees: its address's port, unless the harness names the one its
    units listen on behind their address (``unit_port``: a container's 8888, as tsuru)."""
    fixed = getattr(harness, "unit_port", None)
    return str(fixed) if fixed else state.address.rpartition(":")[2]


class Collector:
    """A LogSink that keeps every line and lets tests wait for some."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self._cond = threading.Condition()

    def __call__(self, line: LogLine) -> None:
        with self._cond:
            self.lines.append(line)
            self._cond.notify_all()

    def messages(self, unit: str | None = None) -> list[str]:
        with self._cond:
            return [ln.message for ln in self.lines if unit is None or ln.unit == unit]

    def wait_for(
        self, check: Callable[[list[str]], bool], unit: str | None = None, timeout: float = 15.0
    ) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [ln.message for ln in self.lines if unit is None or ln.unit == unit]
                if check(got):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"log lines not seen in {timeout}s; got {got[-20:]}")
                self._cond.wait(left)


def new_app(prefix: str = "app") -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def unit_id(app: str, process: str = "web", version: int = 1) -> str:
    return f"{app}-{process}-{version}-{secrets.token_hex(4)}"


def build(
    backend: Backend,
    tmp: Path,
    app: str,
    *,
    version: int = 1,
    platform: str = "python",
    extra: Mapping[str, str | bytes | None] | None = None,
    env: Mapping[str, str] | None = None,
    archive: Path | None = None,
) -> tuple[Release, str]:
    """Build the sample app (with ``extra`` files); (release, build output)."""
    out: list[str] = []
    path = archive or sample_archive(tmp / secrets.token_hex(4), extra)
    release = backend.build(
        BuildRequest(
            app=app,
            version=version,
            platform=platform,
            platform_image="",
            archive_path=str(path),
            env=dict(env or {"GREETING": GREETING}),
        ),
        out.append,
    )
    return release, "".join(out)


def spec(
    release: Release,
    *,
    process: str = "web",
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    mounts: tuple[Mount, ...] = (),
    command: str | None = None,
    uid: str | None = None,
) -> UnitSpec:
    return UnitSpec(
        id=uid if uid is not None else unit_id(release.app, process, release.version),
        app=release.app,
        process=process,
        version=release.version,
        release=release,
        command=command if command is not None else release.processes[process],
        env=dict(env or {"GREETING": GREETING}),
        limits=limits or Limits(),
        mounts=mounts,
    )


def find(backend: Backend, unit: str) -> UnitState | None:
    return next((u for u in backend.units() if u.id == unit), None)


def wait_unit(
    backend: Backend, unit: str, check: Callable[[UnitState], bool], timeout: float = 20.0
) -> UnitState:
    deadline = time.monotonic() + timeout
    last: UnitState | None = None
    while time.monotonic() < deadline:
        last = find(backend, unit)
        if last is not None and check(last):
            return last
        time.sleep(0.05)
    raise AssertionError(f"unit {unit} did not reach the expected state; last seen: {last}")


def started(backend: Backend, unit: str, timeout: float = 20.0) -> UnitState:
    return wait_unit(backend, unit, lambda u: u.status == "started", timeout)


def http_get(address: str, path: str = "/", timeout: float = 5.0) -> tuple[int, str]:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def refused(address: str) -> bool:
    try:
        http_get(address, "/", timeout=2)
    except OSError:
        return True
    return False


def release_to_dict(release: Release) -> dict[str, Any]:
    return asdict(release)


def release_from_dict(data: dict[str, Any]) -> Release:
    hooks = {k: tuple(v) for k, v in data["hooks"].items()}
    return Release(
        app=data["app"],
        version=data["version"],
        image=data["image"],
        processes=data["processes"],
        hooks=Hooks(**hooks),
        healthcheck=Healthcheck(**data["healthcheck"]),
        custom_data=data["custom_data"],
    )
