"""A platform's Dockerfile may start ``FROM tsuru/<platform>[:v<N>|:latest]`` as a tsuru
user writes it: on a docker stack the stored images carry the stack's namespace, so the
build reads such a name as that stored version's image (operations/runtime/platforms.py).
The engines' side is tested on real engines in tests/e2e/test_docker_nodes.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.provisioner.backends.base import Canceled as BackendCanceled
from services.provisioner.domain.dockerfile import base_images, with_base
from services.provisioner.domain.models import Node, Platform, PlatformVersion
from services.provisioner.domain.runtime_errors import Canceled, PlatformImageMissing
from services.provisioner.operations.runtime import platforms
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.storage.memory import memory_stores
from services.provisioner.tests.unit.test_reconciler_ticks import memory_deps
from shared.events import Allowed, Target
from shared.testing.events import FakeRecorder, spec

NODE = "tcp://10.0.0.1:2375"


class Engine:
    """One node's images by name; each build checks its FROM images are there."""

    def __init__(self, images: set[str]) -> None:
        self.images = images
        self.builds: list[tuple[str, list[str]]] = []
        self.cancels: list[threading.Event | None] = []
        self.slow = False

    def status(self, address: str) -> str:
        return "ready"

    def has_image(self, node: str, image: str) -> bool:
        return image in self.images

    def copy_image(self, node: str, image: str) -> bool:
        return False

    def build_image(
        self,
        node: str,
        dockerfile: str,
        tags: list[str],
        output: Callable[[str], None],
        cancel: threading.Event | None = None,
        platform: str = "",
    ) -> str:
        self.cancels.append(cancel)
        if self.slow:  # a silent step: only the cancel ends it
            assert cancel is not None and cancel.wait(30)
            raise BackendCanceled("canceled")
        for base in base_images(dockerfile):
            if base not in self.images:
                raise AssertionError(f"FROM {base}: not on the engine")
        self.builds.append((dockerfile, tags))
        self.images.update(tags)
        return f"id-{len(self.builds)}"


def _deps(engine: Engine, recorder: FakeRecorder | None = None) -> RuntimeDeps:
    catalogue = memory_stores()
    catalogue.nodes.add(Node(NODE, "docker", "dock"))
    for name, versions in {
        "base": [(1, "FROM tsuru/python\n"), (2, "FROM tsuru/base\nRUN echo two\n")],
        "child": [(1, "FROM tsuru/base:v1 AS b\nFROM \\\n  tsuru/base\nRUN echo tsuru/base\n")],
    }.items():
        catalogue.platforms.add(Platform(name))
        for number, dockerfile in versions:
            image = f"ns/tsuru/{name}:v{number}"
            catalogue.platforms.add_version(name, PlatformVersion(number, (image,), dockerfile))
    # Stored before images carried the namespace: its name is its own.
    catalogue.platforms.add(Platform("legacy"))
    catalogue.platforms.add_version("legacy", PlatformVersion(1, ("tsuru/legacy:v1",), "FROM a"))
    return memory_deps(
        catalogue=catalogue,
        node_health=engine,
        platform_images=engine,
        recorder=recorder or FakeRecorder(),
    )


@pytest.mark.parametrize(
    ("base", "building", "image"),
    [
        ("tsuru/base:v1", ("other", 1), "ns/tsuru/base:v1"),
        ("tsuru/base", ("other", 1), "ns/tsuru/base:v2"),
        ("tsuru/base:latest", ("other", 1), "ns/tsuru/base:v2"),
        # The platform being built: its newest version before this one.
        ("tsuru/base", ("base", 2), "ns/tsuru/base:v1"),
        ("tsuru/base", ("base", 1), "tsuru/base"),
        ("registry.example:5000/tsuru/base:v2", ("other", 1), "ns/tsuru/base:v2"),
        # As named: a stored image, an unknown version or platform, any other image.
        ("ns/tsuru/base:v1", ("other", 1), "ns/tsuru/base:v1"),
        ("tsuru/legacy:v1", ("other", 1), "tsuru/legacy:v1"),
        ("tsuru/base:v9", ("other", 1), "tsuru/base:v9"),
        ("tsuru/base:stable", ("other", 1), "tsuru/base:stable"),
        ("tsuru/python", ("other", 1), "tsuru/python"),
        ("tsubame/python:latest", ("other", 1), "tsubame/python:latest"),
    ],
)
def test_a_tsuru_name_reads_as_the_stacks_image(
    base: str, building: tuple[str, int], image: str
) -> None:
    assert platforms.resolve_base(_deps(Engine(set())), base, building) == image


def test_a_build_from_tsuru_names_builds_what_they_name_first() -> None:
    engine = Engine({"tsuru/python"})
    said: list[str] = []
    deps = _deps(engine)
    out = platforms.build(deps, {"platform": "child", "version": 1}, said.append)
    assert out["image"] == "ns/tsuru/child:v1"
    # base v1 and v2 were on no node: built first, from their own Dockerfiles, v2 FROM v1.
    assert engine.builds == [
        ("FROM tsuru/python\n", ["ns/tsuru/base:v1"]),
        ("FROM ns/tsuru/base:v1\nRUN echo two\n", ["ns/tsuru/base:v2"]),
        (
            "FROM ns/tsuru/base:v1 AS b\nFROM \\\n  ns/tsuru/base:v2\nRUN echo tsuru/base\n",
            ["ns/tsuru/child:v1"],
        ),
    ]
    assert " ---> FROM tsuru/base: image ns/tsuru/base:v2 of this stack\n" in said
    # The stored Dockerfile stays as the user wrote it.
    assert deps.catalogue is not None
    child = deps.catalogue.platforms.get("child")
    assert child is not None and child.versions[0].dockerfile.startswith("FROM tsuru/base:v1 AS")


def test_a_tsuru_name_of_no_stored_version_fails_as_named() -> None:
    deps = _deps(Engine({"tsuru/python"}))
    assert deps.catalogue is not None
    deps.catalogue.platforms.add(Platform("bad"))
    deps.catalogue.platforms.add_version("bad", PlatformVersion(1, ("ns/tsuru/bad:v1",),
                                                                "FROM tsuru/base:v7\n"))  # fmt: skip
    with pytest.raises(PlatformImageMissing) as raised:
        platforms.build(deps, {"platform": "bad", "version": 1}, lambda _: None)
    assert "tsuru/base:v7" in str(raised.value)


def test_with_base_rewrites_from_lines_only() -> None:
    text = (
        "# FROM tsuru/x\nFROM tsuru/x\nfrom --platform=linux/amd64 tsuru/x AS b\n"
        "FROM tsuru/xy\nRUN echo \\\nFROM tsuru/x\nFROM b\nFROM tsuru/x"
    )
    assert with_base(text, "tsuru/x", "ns/tsuru/x:v2") == (
        "# FROM tsuru/x\nFROM ns/tsuru/x:v2\nfrom --platform=linux/amd64 ns/tsuru/x:v2 AS b\n"
        "FROM tsuru/xy\nRUN echo \\\nFROM tsuru/x\nFROM b\nFROM ns/tsuru/x:v2"
    )


def test_a_build_stops_once_a_cancel_of_its_event_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(platforms, "CANCEL_POLL", 0.01)
    recorder = FakeRecorder()
    evt = recorder.start(spec(target=Target("platform", "base"), kind="platform.update",
                              owner=("user", "root@example.com"), cancelable=True,
                              allowed_cancel=Allowed("platform.update.events")))  # fmt: skip
    engine = Engine({"tsuru/python"})
    engine.slow = True
    deps = _deps(engine, recorder)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            platforms.build(deps, {"platform": "base", "version": 1, "event": str(evt.id)},
                            lambda _: None)  # fmt: skip
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert not recorder.cancel_asked(evt.id)
    assert recorder.memory.request_cancel(evt.id, owner="root@example.com", reason="slow",
                                          when=datetime.now(UTC))  # fmt: skip
    assert recorder.cancel_asked(str(evt.id))
    worker.join(30)
    assert not worker.is_alive()
    assert len(failed) == 1 and isinstance(failed[0], Canceled), failed
    # The build was handed the cancel, and no image was named.
    assert engine.cancels and engine.cancels[0] is not None and engine.cancels[0].is_set()
    assert engine.builds == []
    # Asked before the build starts: nothing is built at all.
    engine.slow, engine.cancels = False, []
    with pytest.raises(Canceled):
        platforms.build(deps, {"platform": "base", "version": 2, "event": str(evt.id)},
                        lambda _: None)  # fmt: skip
    assert engine.builds == [] and engine.cancels == []


def test_cancel_asked_of_an_unknown_event_is_false() -> None:
    recorder = FakeRecorder()
    assert not recorder.cancel_asked("not-an-id")
    assert not recorder.cancel_asked("0123456789abcdef01234567")


def test_a_build_with_a_bad_event_is_refused() -> None:
    from services.provisioner.domain.runtime_errors import InvalidCommand

    with pytest.raises(InvalidCommand):
        platforms.build(_deps(Engine(set())), {"platform": "base", "version": 1, "event": 3},
                        lambda _: None)  # fmt: skip


def test_making_an_image_present_stops_on_the_callers_cancel() -> None:
    # As a deploy makes its platform's image present (builds.build_version).
    engine = Engine({"tsuru/python"})
    deps = _deps(engine)
    canceled = threading.Event()
    canceled.set()
    with pytest.raises(Canceled):
        platforms.ensure_image(deps, NODE, "ns/tsuru/base:v2", lambda _: None, cancel=canceled)
    assert engine.builds == [] and engine.cancels == []
    engine.slow = True
    later = threading.Event()
    threading.Timer(0.05, later.set).start()
    with pytest.raises(Canceled):
        platforms.ensure_image(deps, NODE, "ns/tsuru/base:v2", lambda _: None, cancel=later)
    assert engine.cancels == [later] and engine.builds == []
