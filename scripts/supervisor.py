"""Supervision of a stack's processes: a process that dies is started again.

One thread looks at every process a few times a second. A process that died (crash,
kill -9, out of memory) is restarted after a backoff delay: 0.5 s, then doubling up to
30 s while it keeps dying soon after each start; a process that ran 30 s before dying
starts the ladder over. Each exit and restart is logged (the launcher's log and the
process's own log). A restarted web process counts as healed once its health URL
answers 200; a worker once it has stayed up for a moment.

A process stopped on purpose (``held``: a test's ``kill_service``, a scale-down) is left
down. The supervisor never blocks the stack's lock while it waits on a process: it
decides under the lock, and checks health outside it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.procs import Child

# Process states (Proc.state).
NEW = "new"  # created, never started
STARTING = "starting"  # started, not healthy yet
UP = "up"
DOWN = "down"  # died; a restart is scheduled (or it is held)
DRAINING = "draining"  # being stopped by a scale-down
STOPPED = "stopped"  # stopped on purpose

# A worker (no health URL) is healthy once it stayed up this long after a start.
WORKER_SETTLE = 1.0


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    factor: float = 2.0
    limit: float = 30.0
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        """Delay before restart number ``failures`` of a row of quick deaths (1-based)."""
        return min(self.limit, self.first * self.factor ** max(0, failures - 1))


@dataclass(eq=False)
class Proc:
    """One process of the stack and its supervision state."""

    name: str  # log name: "auth", "auth-2", "auth-worker", "gateway", "mongo"
    role: str  # what scaling counts: "auth", "auth-worker", "gateway", "mongo"
    index: int  # 1-based within its role
    child: Child
    health: Callable[[], bool] | None = None  # None: running for a moment is healthy
    url: str = ""  # base URL of a web process
    held: bool = False  # stopped on purpose: the supervisor leaves it down
    state: str = NEW
    restarts: int = 0
    failures: int = 0  # deaths in a row, each soon after its start
    restart_at: float | None = None
    died_at: float | None = None
    last_exit: int | None = None

    def healthy(self) -> bool:
        if not self.child.running():
            return False
        if self.health is None:
            return time.monotonic() - self.child.started_at >= WORKER_SETTLE
        return self.health()

    @property
    def log_path(self) -> Path:
        return self.child.log_path


def describe_exit(code: int | None) -> str:
    if code is None:
        return "no status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


class Supervisor:
    """Restarts the dead processes of ``procs()`` until stopped.

    ``on_change(proc)`` is called (under ``lock``) whenever a process goes down or
    comes back up, so the stack can update its instance registry.
    """

    def __init__(
        self,
        procs: Callable[[], list[Proc]],
        lock: threading.RLock,
        log: Callable[[str], None],
        on_change: Callable[[Proc], None],
        *,
        backoff: Backoff | None = None,
        interval: float = 0.2,
    ) -> None:
        self._procs = procs
        self._lock = lock
        self._log = log
        self._on_change = on_change
        self.backoff = backoff or Backoff()
        self.interval = interval
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._paused.is_set()

    def pause(self) -> None:
        with self._lock:  # waits for a tick in progress
            self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    # -- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self._paused.is_set():
                continue
            try:
                self.tick()
            except Exception as exc:  # the supervisor itself must not die
                self._log(f"supervisor error: {exc!r}")

    def tick(self) -> None:
        with self._lock:
            watched = [p for p in self._procs() if not p.held and p.state in (STARTING, UP, DOWN)]
        for proc in watched:
            if self._paused.is_set() or self._stop.is_set():
                return
            if proc.child.running():
                if proc.state == STARTING and proc.healthy():  # health outside the lock
                    self._healed(proc)
            else:
                self._dead(proc)

    def _healed(self, proc: Proc) -> None:
        with self._lock:
            if proc.held or proc.state != STARTING or not proc.child.running():
                return
            proc.state = UP
            took = time.monotonic() - proc.died_at if proc.died_at is not None else 0.0
            if proc.restarts:
                self._log(f"{proc.name} is healthy again ({took:.1f}s after it died)")
            self._on_change(proc)

    def _dead(self, proc: Proc) -> None:
        now = time.monotonic()
        with self._lock:
            if proc.held or proc.child.running() or proc.state not in (STARTING, UP, DOWN):
                return
            if proc.restart_at is None:
                self._schedule(proc, now)
                self._on_change(proc)
                return
            if now < proc.restart_at:
                return
            proc.restart_at = None
            proc.restarts += 1
            try:
                proc.child.start(note=f"restarting (restart {proc.restarts}) after it died:")
            except OSError as exc:
                self._log(f"could not restart {proc.name}: {exc}")
                proc.failures += 1
                proc.restart_at = now + self.backoff.delay(proc.failures)
                return
            proc.state = STARTING
            self._log(f"restarted {proc.name} (pid {proc.child.pid}, restart {proc.restarts})")

    def _schedule(self, proc: Proc, now: float) -> None:
        code = proc.child.exit_code()
        pid = proc.child.pid
        # Orphaned members of its group (gunicorn workers) still hold the port.
        proc.child.reap_group()
        ran = now - proc.child.started_at
        proc.failures = 1 if ran >= self.backoff.stable_after else proc.failures + 1
        delay = self.backoff.delay(proc.failures)
        proc.restart_at = now + delay
        proc.state = DOWN
        proc.last_exit = code
        proc.died_at = now
        self._log(
            f"{proc.name} (pid {pid}) exited with {describe_exit(code)} after {ran:.1f}s; "
            f"restarting in {delay:g}s (log {proc.log_path})"
        )
