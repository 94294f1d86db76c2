"""Crash restarts decided by looks of one node that run at once (the watcher's and a
caller's ``units()``): one crash is one restart. On an engine faked in memory, so each
interleaving is forced rather than hoped for under load."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.store import UnitStore
from services.provisioner.backends.docker.supervisor import Supervisor, Tracked

NODE = "unix:///fake/podman.sock"
UNIT = "app-web-1-abcd"
WAIT = 30.0  # a bound for the other thread's step, never reached when it works


class FakeApi:
    """One unit container; ``start`` runs ``during_start`` (once) before it is running."""

    def __init__(self) -> None:
        self.state = "running"
        self.starts: list[str] = []
        self.after_listing: Callable[[], None] | None = None
        self.during_start: Callable[[], None] | None = None

    def containers(self, all: bool, filters: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: A002
        entry = {
            "Id": "c1",
            "Names": [f"/{UNIT}"],
            "State": self.state,
            "Status": "Up 2 seconds" if self.state == "running" else "Exited (3) 1 second ago",
            "Labels": ct.labels("ns", "unit", **{ct.UNIT: UNIT, ct.APP: "app",
                                                 ct.PROCESS: "worker", ct.WEB: "0"}),
        }  # fmt: skip
        hook, self.after_listing = self.after_listing, None
        if hook is not None:
            hook()  # the listing is taken: what happens now is not in it
        return [entry]

    def start(self, container: str) -> None:
        self.starts.append(container)
        hook, self.during_start = self.during_start, None
        if hook is not None:
            hook()
        self.state = "running"


class FakeClient:
    def __init__(self, api: FakeApi) -> None:
        self.api = api


class QuietFollower:
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def wake(self) -> None: ...
    def join(self, timeout: float) -> None: ...
    def position(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def supervisor(api: FakeApi, tmp_path: Path) -> Iterator[Supervisor]:
    made = Supervisor(
        "ns",
        UnitStore(tmp_path / "store"),
        lambda node: FakeClient(api),
        lambda node: "127.0.0.1",
        lambda tracked, position: QuietFollower(),  # type: ignore[arg-type,return-value]
        backoff_max=0.0,  # a crash is due for its restart at once
    )
    assert [s.status for s in made.look(NODE)] == ["started"]  # adopted, owned
    api.state = "exited"  # and now it crashes
    yield made
    made.close()


def in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def restarts(supervisor: Supervisor) -> tuple[int, int]:
    return supervisor.units[UNIT].restarts, supervisor.store.read(UNIT)["restarts"]


def test_a_look_held_up_while_another_restarts_the_unit_does_not_start_it_again(
    api: FakeApi, supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The watcher decides to restart the crash and is starting the container; the
    # caller's look, which had found it unclaimed, decides only now (seen under load:
    # both started it, restarts == 2 for one crash).
    starting, go = threading.Event(), threading.Event()

    def held_start() -> None:
        starting.set()
        assert go.wait(WAIT)

    api.during_start = held_start
    real_track = supervisor._track
    caller = threading.current_thread()
    watcher: list[threading.Thread] = []

    def held_up(node: str, unit: str, entry: dict[str, Any]) -> Tracked:
        if threading.current_thread() is caller and not watcher:
            watcher.append(in_thread(lambda: supervisor.look(NODE)))
            assert starting.wait(WAIT)
        return real_track(node, unit, entry)

    monkeypatch.setattr(supervisor, "_track", held_up)
    states = supervisor.look(NODE)
    go.set()
    watcher[0].join(WAIT)
    assert not watcher[0].is_alive()
    assert api.starts == ["c1"]
    assert restarts(supervisor) == (1, 1)
    assert [s.status for s in states] == ["error"]  # as its listing had it
    assert [(s.status, s.restarts) for s in supervisor.look(NODE)] == [("started", 1)]


def test_a_listing_taken_before_the_restart_does_not_start_it_again(
    api: FakeApi, supervisor: Supervisor
) -> None:
    # The caller's listing shows the crash; before it is read, the watcher restarts the
    # unit. The exit it shows is the one already handled.
    api.after_listing = lambda: in_thread(lambda: supervisor.look(NODE)).join(WAIT)
    supervisor.look(NODE)
    assert api.state == "running"
    assert api.starts == ["c1"]
    assert restarts(supervisor) == (1, 1)
    # A later crash is one more restart.
    api.state = "exited"
    supervisor.look(NODE)
    assert api.starts == ["c1", "c1"]
    assert restarts(supervisor) == (2, 2)


def test_a_unit_listed_while_its_restart_finishes_says_how_its_last_run_ended(
    api: FakeApi, supervisor: Supervisor
) -> None:
    supervisor.look(NODE)  # the first crash, restarted
    api.state = "exited"  # and the second one
    seen: list[tuple[str, int, str]] = []

    def another_look() -> None:
        api.state = "running"  # running already; the start call has not returned yet
        seen.extend((s.status, s.restarts, s.status_detail) for s in supervisor.look(NODE))

    api.during_start = another_look
    supervisor.look(NODE)
    assert api.starts == ["c1", "c1"]
    assert seen == [("starting", 1, "last run exited with status 3")]
    [after] = supervisor.look(NODE)
    assert (after.restarts, after.status_detail) == (2, "last run exited with status 3")
