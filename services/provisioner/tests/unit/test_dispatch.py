"""The dispatcher over several backends: one that cannot work (its root unusable) does not
stop the others (docs/runtime.md "Backends")."""

from __future__ import annotations

import pytest

from services.provisioner.adapters.unavailable import UnavailableBackend
from services.provisioner.backends.base import BackendError, NodeInfo, UnitState
from services.provisioner.backends.dispatch import Backends

REASON = "process backend root /x is not reachable by app users"


class Docker(UnavailableBackend):
    """A docker member that runs one unit of ``shop`` and records what it was asked."""

    def __init__(self) -> None:
        super().__init__("docker", "")
        self.unit = UnitState("u1", "shop", "web", 1, "tcp://n1:2375", "started", "n1:1")
        self.calls: list[tuple[str, object]] = []

    def nodes(self) -> list[NodeInfo]:
        return []

    def units(self, app: str | None = None) -> list[UnitState]:
        return [self.unit] if app in (None, "shop") else []

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        self.calls.append(("stop", unit_id))

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        self.calls.append(("remove", unit_id))

    def remove_release(self, app: str, version: int) -> None:
        self.calls.append(("remove_release", (app, version)))

    def remove_app(self, app: str) -> None:
        self.calls.append(("remove_app", app))


def test_an_unavailable_member_leaves_the_others_working() -> None:
    docker = Docker()
    backends = Backends({"process": UnavailableBackend("process", REASON), "docker": docker})
    assert backends.units("shop") == [docker.unit]
    assert backends.units() == [docker.unit]
    assert backends.unavailable == {"process": f"the process backend is unavailable: {REASON}"}
    backends.stop_unit("u1")
    backends.remove_unit("unknown")  # no member knows it: asked of every one
    backends.remove_release("shop", 1)
    backends.remove_app("shop")
    assert docker.calls == [
        ("stop", "u1"),
        ("remove", "unknown"),
        ("remove_release", ("shop", 1)),
        ("remove_app", "shop"),
    ]
    assert backends.nodes() == []


def test_every_member_failing_fails_the_call() -> None:
    backends = Backends(
        {
            "process": UnavailableBackend("process", REASON),
            "docker": UnavailableBackend("docker", "x"),
        }
    )
    with pytest.raises(BackendError, match=REASON):
        backends.units("shop")
    with pytest.raises(BackendError, match=REASON):
        backends.remove_app("shop")
