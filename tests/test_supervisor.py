"""The supervisor (scripts/supervisor.py) over tiny real processes, with short delays."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.procs import Child
from scripts.supervisor import DOWN, STARTING, UP, Backoff, Proc, Supervisor

FAST = Backoff(first=0.05, factor=2.0, limit=0.4, stable_after=5.0)


class Harness:
    def __init__(self, tmp_path: Path, backoff: Backoff = FAST) -> None:
        self.tmp_path = tmp_path
        self.procs: list[Proc] = []
        self.lines: list[str] = []
        self.changes: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self.supervisor = Supervisor(
            lambda: list(self.procs),
            self.lock,
            self.lines.append,
            lambda p: self.changes.append((p.name, p.state)),
            backoff=backoff,
            interval=0.02,
        )

    def add(self, name: str, code: str) -> Proc:
        child = Child(name, [sys.executable, "-c", code], self.tmp_path / f"{name}.log")
        proc = Proc(name, name, 1, child)
        child.start()
        proc.state = UP
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        self.supervisor.stop()
        for proc in self.procs:
            proc.child.stop(grace=2)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    try:
        yield h
    finally:
        h.stop()


def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_backoff_doubles_up_to_its_limit() -> None:
    backoff = Backoff(first=0.5, factor=2.0, limit=30.0)
    assert [backoff.delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_a_crashing_process_is_restarted_with_growing_delays(harness: Harness) -> None:
    proc = harness.add("crasher", "import sys; sys.exit(3)")
    harness.supervisor.start()
    eventually(lambda: proc.restarts >= 5)
    found = (re.search(r"restarting in ([\d.]+)s", line) for line in harness.lines)
    delays = [float(m.group(1)) for m in found if m]
    assert delays[:5] == [0.05, 0.1, 0.2, 0.4, 0.4]
    assert all("exited with status 3" in line for line in harness.lines if "exited" in line)
    assert any(line.startswith("restarted crasher (pid ") for line in harness.lines)
    assert "restarting (restart 1) after it died: crasher" in proc.log_path.read_text()


def test_a_killed_process_comes_back_and_is_reported(harness: Harness) -> None:
    proc = harness.add("sleeper", "import time; time.sleep(60)")
    harness.supervisor.start()
    first = proc.child.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    eventually(lambda: proc.state == UP and proc.child.pid != first)
    assert proc.restarts == 1
    assert proc.last_exit == -signal.SIGKILL
    assert ("sleeper", DOWN) in harness.changes and harness.changes[-1] == ("sleeper", UP)
    assert any("exited with signal SIGKILL" in line for line in harness.lines)
    assert any("sleeper is healthy again" in line for line in harness.lines)


def test_a_held_process_stays_down(harness: Harness) -> None:
    proc = harness.add("held", "import time; time.sleep(60)")
    harness.supervisor.start()
    with harness.lock:
        proc.held = True
    proc.child.kill()
    time.sleep(0.5)
    assert not proc.child.running()
    assert proc.restarts == 0 and harness.lines == []


def test_pause_and_resume(harness: Harness) -> None:
    proc = harness.add("paused", "import time; time.sleep(60)")
    harness.supervisor.start()
    harness.supervisor.pause()
    assert not harness.supervisor.running
    proc.child.kill()
    time.sleep(0.5)
    assert not proc.child.running() and proc.restarts == 0
    harness.supervisor.resume()
    eventually(lambda: proc.child.running() and proc.restarts == 1)


def test_a_process_that_ran_long_enough_starts_the_ladder_over(tmp_path: Path) -> None:
    h = Harness(tmp_path, Backoff(first=0.05, factor=4.0, limit=5.0, stable_after=0.3))
    try:
        proc = h.add("steady", "import time; time.sleep(0.4)")
        h.supervisor.start()
        eventually(lambda: proc.restarts >= 3)
        delays = [float(m.group(1)) for x in h.lines if (m := re.search(r"in ([\d.]+)s", x))]
        assert delays[:3] == [0.05, 0.05, 0.05]  # each death came 0.4 s after its start
    finally:
        h.stop()


def test_a_restarted_web_process_is_up_only_once_healthy(harness: Harness) -> None:
    ready = threading.Event()
    proc = harness.add("web", "import time; time.sleep(60)")
    proc.health = ready.is_set
    harness.supervisor.start()
    proc.child.kill()
    eventually(lambda: proc.state == STARTING)
    time.sleep(0.3)
    assert proc.state == STARTING
    ready.set()
    eventually(lambda: proc.state == UP)
