"""Child processes in their own process group, so stopping one leaves no orphan.

Every child is the leader of a new session (``setsid``), so ``killpg`` reaches it
and everything it forks (gunicorn workers). On Linux each child also asks the
kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``): a launcher killed
with -9 still takes its stack down. The kernel's "parent" there is the *thread*
that forked the child, so children are started through a `Spawner`: one thread that
lives as long as the stack, whichever thread (supervisor, control socket, a test)
asks for the start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from shared import logs, ports

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    # Resolved in the parent: the child, between fork and exec, only calls it.
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


def _death_signal_setup(prctl: Callable[..., int] | None) -> Callable[[], None] | None:
    if prctl is None:
        return None

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return setup


def free_port(host: str = "127.0.0.1") -> int:
    # Below the ephemeral range, so no outgoing connection takes it before the server binds.
    return ports.free_port(host)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()[-16384:]
    except OSError:
        return "(no log)"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


class Spawner:
    """Runs every child start on one long-lived thread (see the module docstring).

    ``run(fn)`` calls ``fn`` on that thread and returns its result (or raises its
    error); called on the spawner thread itself it just calls ``fn``. ``close()``
    ends the thread: call it only once the children it started are stopped, since
    they receive SIGTERM when it ends.
    """

    def __init__(self, name: str = "spawner") -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], object], Future[object]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future = job
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)

    def run(self, fn: Callable[[], T]) -> T:
        if threading.current_thread() is self._thread:
            return fn()
        if not self._thread.is_alive():
            raise RuntimeError("spawner closed")
        future: Future[object] = Future()
        self._jobs.put((fn, future))
        result: T = future.result()  # type: ignore[assignment]
        return result

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=10)


class Child:
    """One command run as its own process group, output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        spawner: Spawner | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.spawner = spawner
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # time.monotonic() of the last start
        # SIGTERM to the leader only: it stops the rest itself, in its own order (the
        # gateway's front drains, then stops its gunicorn); SIGKILL still takes the group.
        self.term_leader = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, note: str = "starting") -> None:
        """Start (or start again) the command; ``note`` heads its block in the log."""
        if self.spawner is not None:
            self.spawner.run(lambda: self._start(note))
        else:
            self._start(note)

    def _start(self, note: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write((self._marker(note) + "\n").encode())
            log.flush()
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_death_signal_setup(_prctl()),
                close_fds=True,
            )

    def _marker(self, note: str) -> str:
        """The line heading each run in the log: JSON too when the process logs JSON."""
        env = self.env if self.env is not None else os.environ
        message = f"{note} {self.name}: {' '.join(self.argv)}"
        if env.get(logs.FORMAT_ENV, "").strip().lower() == "json":
            return logs.render_line("launcher", message, environ=env)
        return f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {message}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def terminate(self) -> None:
        """SIGTERM the group (or its leader: ``term_leader``) without waiting."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                (os.kill if self.term_leader else os.killpg)(self.proc.pid, signal.SIGTERM)

    def reap_group(self) -> None:
        """SIGKILL what is left of the group of a leader that died (orphaned gunicorn
        workers still holding its port) and wait until it is gone."""
        if self.proc is None or self.proc.poll() is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        _wait_group_gone(self.proc.pid, 5.0)

    def kill(self) -> None:
        """SIGKILL the whole group at once (a crash, for tests)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        # Forked members (gunicorn workers holding the listening socket) die a moment
        # after the leader is reaped, more so on a loaded machine.
        _wait_group_gone(self.proc.pid, 5.0)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the group, wait for the leader, then SIGKILL what is left."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # The leader may be gone while forked members (gunicorn workers) linger.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        _wait_group_gone(pgid, 5.0)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) pids whose process group is ``pgid`` (Linux /proc scan)."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the command (which may hold spaces) start after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry))
    return found


def _wait_group_gone(pgid: int, timeout: float) -> None:
    if not os.path.isdir("/proc"):
        return
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
