"""A platform's images leave the docker nodes with it: at once from the nodes that answer,
from a silent node at the sweep that finds it answering (operations/runtime/platforms.py).
The engines' side (names, labels, app images committed from a removed platform image) is
tested on real engines in backends/docker/tests/test_platforms.py."""

from __future__ import annotations

from collections.abc import Sequence

from services.provisioner.backends.base import BackendError
from services.provisioner.domain.models import Node, Platform, PlatformVersion
from services.provisioner.operations.runtime import platforms
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.storage.memory import memory_stores
from services.provisioner.tests.unit.test_reconciler_ticks import memory_deps

A, B = "tcp://10.0.0.1:2375", "tcp://10.0.0.2:2375"


class Engines:
    """Per node: image id -> (platform label, names), as ``platform_images`` lists them."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, tuple[str, list[str]]]] = {A: {}, B: {}}
        self.silent: set[str] = set()

    def status(self, address: str) -> str:
        return "error" if address in self.silent else "ready"

    def platform_images(self, node: str) -> list[tuple[str, str, list[str]]]:
        if node in self.silent:
            raise BackendError(f"node {node} does not answer")
        return [(i, p, list(n)) for i, (p, n) in self.images[node].items()]

    def remove_images(self, node: str, names: Sequence[str], platform: str = "") -> list[str]:
        if node in self.silent:
            raise BackendError(f"node {node} does not answer")
        removed: list[str] = []
        held = self.images[node]
        for image_id, (owner, tags) in list(held.items()):
            gone = [t for t in tags if platforms._bare(t) in names or t in names]
            removed += gone
            tags = [t for t in tags if t not in gone]
            if gone and not tags:
                del held[image_id]
            elif not tags and owner == platform:
                del held[image_id]
                removed.append(image_id)
            else:
                held[image_id] = (owner, tags)
        return removed


def _deps(engines: Engines) -> RuntimeDeps:
    catalogue = memory_stores()
    for address in (A, B):
        catalogue.nodes.add(Node(address, "docker", "dock"))
    for name in ("kept", "gone"):
        catalogue.platforms.add(Platform(name))
        for n in (1, 2):
            catalogue.platforms.add_version(name, PlatformVersion(n, (f"ns/tsuru/{name}:v{n}",)))
    return memory_deps(
        catalogue=catalogue,
        node_health=engines,
        platform_images=engines,
    )


def _on_both(engines: Engines) -> None:
    for node in (A, B):
        engines.images[node] = {
            "k1": ("kept", ["docker.io/ns/tsuru/kept:v1"]),
            "k2": ("kept", ["docker.io/ns/tsuru/kept:v2"]),
            "kx": ("kept", []),  # a parent of the named ones: stays
            "g1": ("gone", ["docker.io/ns/tsuru/gone:v1"]),
            "g2": ("gone", ["docker.io/ns/tsuru/gone:v2", "docker.io/ns/tsuru/gone:extra"]),
            "gx": ("gone", []),  # left by a build given up midway
        }


def test_a_removed_platform_s_images_leave_the_answering_nodes_and_the_silent_one_later() -> None:
    engines = Engines()
    _on_both(engines)
    for node in (A, B):
        engines.images[node]["g2"] = ("gone", ["docker.io/ns/tsuru/gone:v2"])
    deps = _deps(engines)
    engines.silent.add(B)
    assert deps.catalogue is not None
    deps.catalogue.platforms.delete("gone")
    out: list[str] = []
    images = ["ns/tsuru/gone:v1", "ns/tsuru/gone:v2"]
    result = platforms.remove(deps, {"platform": "gone", "images": images}, out.append)
    assert result == {"nodes": [A], "left": [B]}
    assert sorted(engines.images[A]) == ["k1", "k2", "kx"]
    assert "removed by the next sweep once it answers" in "".join(out)
    assert sorted(engines.images[B]) == ["g1", "g2", "gx", "k1", "k2", "kx"]
    assert platforms.sweep(deps) == {}  # B still silent; nothing of A's is touched
    engines.silent.clear()
    swept = platforms.sweep(deps)
    assert sorted(engines.images[B]) == ["k1", "k2", "kx"]
    assert swept == {B: ["docker.io/ns/tsuru/gone:v1", "docker.io/ns/tsuru/gone:v2", "gx"]}
    assert sorted(engines.images[A]) == ["k1", "k2", "kx"]


def test_the_sweep_removes_the_images_of_dropped_versions_only() -> None:
    engines = Engines()
    _on_both(engines)
    engines.images[A]["k3"] = ("kept", ["docker.io/ns/tsuru/kept:v3"])  # build dropped
    deps = _deps(engines)
    assert platforms.sweep(deps) == {
        A: ["docker.io/ns/tsuru/gone:extra", "docker.io/ns/tsuru/kept:v3"],
        B: ["docker.io/ns/tsuru/gone:extra"],
    }
    assert sorted(engines.images[A]) == ["g1", "g2", "gx", "k1", "k2", "kx"]
