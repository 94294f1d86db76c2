"""The unit runner: a small supervisor per unit, ``runner.main([unit_dir])``.

Started by ``launch.start_runner`` in its own session, it detaches (so the provisioner
worker may die, even with -9, and the unit keeps running), holds ``runner.lock`` for
its whole life (one runner per unit), then loops:

* start the command through the sandbox (app uid, cgroups, private /tmp) with PORT;
* copy its output, line by line with a timestamp, to the rotated ``output.log``;
* ``starting`` until ready (a socket of the app's uid listens on PORT, or for a
  non-web process, one second alive), then ``started``;
* when it exits: kill what is left of it, count a restart, ``error`` for an
  exponential backoff, then start it again;
* on SIGTERM: TERM to the whole process group, KILL after the grace period of
  ``stop.json``, write ``stopped`` and exit.

Every change is written to ``state.json`` atomically. Standard library only, and its
light modules: a runner lives as long as its unit, one per unit, so what it imports is
paid once per unit (no ``subprocess``, ``datetime`` or ``typing``;
backends/tests/unit/test_runner_weight.py keeps it so).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import sys
import time

from services.provisioner.backends.process import cgroups, launch, probe, unitfs
from shared import ports

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

READY_RUNNING_AFTER = 1.0  # seconds alive before a non-web process counts as started
IDLE_WAIT = 30.0  # seconds a started unit's runner sleeps when nothing wakes it
BACKOFF_START = 0.5
BACKOFF_RESET_AFTER = 60.0  # a run this long forgets earlier crashes
DEFAULT_GRACE = 10.0


def _now() -> str:
    """``datetime.now(UTC).isoformat()``, without importing datetime."""
    now = time.time()
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    return f"{whole}.{int(now % 1 * 1_000_000):06d}+00:00"


def _port_free(port: int) -> bool:
    return ports.bindable("", port)


def _pick_port() -> int:
    # Below the ephemeral range: an outgoing connection cannot hold it when the app binds.
    return ports.free_port("")


class Runner:
    def __init__(self, unit_dir: str) -> None:
        self.dir = os.path.abspath(unit_dir)
        spec = unitfs.read_json(os.path.join(self.dir, unitfs.SPEC))
        if spec is None:
            raise RuntimeError(f"no readable {unitfs.SPEC} in {self.dir}")
        self.spec: dict[str, Any] = spec
        self.state: dict[str, Any] = unitfs.read_json(self._path(unitfs.STATE)) or {}
        self.stopping = False
        self.child: launch.Child | None = None
        self.child_started = 0.0
        self.lock_fd = -1
        self.wake_r = -1
        self.log: unitfs.RotatingLog | None = None
        self.splitter = unitfs.LineSplitter()
        self.oom_before = 0

    def _path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def note(self, text: str) -> None:
        """A line of the runner's own log (its stdout, redirected to runner.log)."""
        sys.stdout.write(f"{_now()} {text}\n")
        sys.stdout.flush()

    def save(self, **changes: Any) -> None:
        self.state.update(changes, updated_at=_now())
        unitfs.write_json(self._path(unitfs.STATE), self.state, 0o640)

    # -- start ---------------------------------------------------------------------

    def prepare(self) -> None:
        """Everything that can fail before we report that the unit is starting."""
        self.lock_fd = os.open(self._path("runner.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise RuntimeError("a runner of this unit is already running") from None
            raise
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(unitfs.STOP))
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        self.wake_r = wake_r
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        port = int(self.spec.get("port") or self.state.get("port") or 0)
        if not port or not _port_free(port):
            port = _pick_port()
        self.log = unitfs.RotatingLog(
            self._path(unitfs.OUTPUT), int(self.spec.get("log_max_bytes") or 1 << 20)
        )
        me = os.getpid()
        self.save(
            runner_pid=me,
            runner_start=unitfs.proc_start(me),
            status="starting",
            port=port,
            pid=None,
            pid_start=None,
            restarts=int(self.state.get("restarts") or 0),
            detail="",
            created_at=self.state.get("created_at") or self.spec.get("created_at") or _now(),
        )
        if os.getuid() != 0:
            self.note(f"not root: the unit runs as the current user (uid {os.getuid()})")

    def _on_stop(self, *_: Any) -> None:
        self.stopping = True

    # -- the loop --------------------------------------------------------------------

    def run(self) -> None:
        failures = 0
        try:
            while not self.stopping:
                started = self.spawn()
                if started:
                    self.watch()
                if self.stopping:
                    break
                ran = time.monotonic() - self.child_started
                failures = 1 if ran > BACKOFF_RESET_AFTER else failures + 1
                delay = min(
                    float(self.spec.get("backoff_max") or 30.0),
                    BACKOFF_START * 2 ** (failures - 1),
                )
                self.save(status="error", restarts=int(self.state["restarts"]) + 1)
                self.note(f"{self.state['detail']}; starting again in {delay:g}s")
                self.pause(delay)
        finally:
            self.finish()

    def _sandbox_cfg(self) -> dict[str, Any]:
        spec = self.spec
        env = dict(spec["env"], PORT=str(self.state["port"]))
        groups: dict[str, str] = {}
        limits = dict(spec.get("limits") or {})
        if os.getuid() == 0:
            groups = cgroups.create(spec["scope"], spec["id"], limits)
        procs = cgroups.procs_files(groups)
        return {
            "argv": ["/bin/sh", "-c", spec["command"]],
            "env": env,
            "cwd": spec["cwd"],
            "uid": spec.get("uid"),
            "gid": spec.get("gid"),
            "root": spec["root"],
            "tmp": spec.get("tmp"),
            "binds": spec.get("binds", []),
            "namespace": bool(spec.get("namespace")),
            "cgroups": procs,
            "rlimit_as": 0 if "memory" in groups else int(limits.get("memory") or 0),
            "nice": 0 if "cpu" in groups else int(spec.get("nice") or 0),
        }

    def spawn(self) -> bool:
        port = int(self.state["port"])
        if not _port_free(port) and self.spec.get("ready") == "port":
            port = _pick_port()  # someone took our port while we were down
        self.state["port"] = port
        self.oom_before = cgroups.oom_kills(self.spec["scope"], self.spec["id"])
        try:
            self.child = launch.spawn_sandboxed(self._sandbox_cfg())
        except OSError as exc:
            self.child = None
            self.child_started = time.monotonic()
            self.save(detail=f"could not start: {exc}")
            return False
        os.set_blocking(self.child.out, False)
        self.child_started = time.monotonic()
        self.save(
            status="starting",
            pid=self.child.pid,
            pid_start=unitfs.proc_start(self.child.pid),
            port=port,
            started_at=_now(),
        )
        return True

    def watch(self) -> None:
        """Until the command exits (stopping it first when asked to)."""
        child = self.child
        assert child is not None
        out = child.out
        watched = [out, self.wake_r]
        deadline: float | None = None
        next_probe = 0.0
        while True:
            if self.stopping and deadline is None:
                deadline = time.monotonic() + self._grace()
                self._signal_group(signal.SIGTERM)
            if deadline is not None and time.monotonic() > deadline:
                self._signal_group(signal.SIGKILL)
                cgroups.kill(self.spec["scope"], self.spec["id"])
                deadline = float("inf")
            # Started and not stopping, nothing is polled: the command's output, its exit
            # (SIGCHLD) and a stop (SIGTERM) wake us through the wakeup pipe; an idle
            # unit costs its runner no CPU.
            busy = deadline is not None or self.state["status"] == "starting"
            readable, _, _ = select.select(watched, [], [], 0.25 if busy else IDLE_WAIT)
            if self.wake_r in readable:
                with contextlib.suppress(OSError):
                    os.read(self.wake_r, 512)
            if out in readable and not self._copy(out):
                watched = [self.wake_r]  # it closed its output but runs on
            status = child.poll()
            if status is not None:
                break
            if self.state["status"] == "starting" and time.monotonic() >= next_probe:
                next_probe = time.monotonic() + 0.2
                if self._ready():
                    self.save(status="started")
        self._reap(child)

    def _ready(self) -> bool:
        if self.spec.get("ready") == "port":
            uid = self.spec.get("uid")
            port = int(self.state["port"])
            # The table scan costs milliseconds per thousand sockets of the machine; a
            # refused connect, microseconds: scan only once something accepts.
            return probe.accepts(port) and probe.listening(
                port, os.getuid() if uid is None else int(uid)
            )
        return time.monotonic() - self.child_started >= READY_RUNNING_AFTER

    def _grace(self) -> float:
        request = unitfs.read_json(self._path(unitfs.STOP)) or {}
        try:
            return max(0.0, float(request.get("timeout", DEFAULT_GRACE)))
        except (TypeError, ValueError):
            return DEFAULT_GRACE

    def _signal_group(self, sig: int) -> None:
        if self.child is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.child.pid, sig)

    def _copy(self, out: int) -> bool:
        """Copy what the command wrote; False at the end of its output."""
        try:
            data = os.read(out, 1 << 16)
        except BlockingIOError:
            return True
        self._write(self.splitter.feed(data) if data else self.splitter.flush())
        return bool(data)

    def _write(self, lines: list[bytes]) -> None:
        if self.log is not None and lines:
            self.log.write([unitfs.format_line(line) for line in lines])

    def _reap(self, child: launch.Child) -> None:
        """The command exited: end what it left behind, keep its last words, record why."""
        status = child.returncode
        assert status is not None
        # Leftovers (daemonized children) would hold the port and the output pipe.
        self._signal_group(signal.SIGKILL)
        cgroups.kill(self.spec["scope"], self.spec["id"])
        out = child.out
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            try:
                data = os.read(out, 1 << 16)
            except BlockingIOError:
                time.sleep(0.02)
                continue
            if not data:
                break
            self._write(self.splitter.feed(data))
        self._write(self.splitter.flush())
        os.close(out)
        text = f"exited with status {status}" if status >= 0 else _describe_signal(-status)
        if cgroups.oom_kills(self.spec["scope"], self.spec["id"]) > self.oom_before:
            text += " (out of memory)"
        self.save(pid=None, pid_start=None, last_exit=status, detail=text)

    def pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            readable, _, _ = select.select([self.wake_r], [], [], min(0.5, end - time.monotonic()))
            if readable:
                with contextlib.suppress(OSError):
                    os.read(self.wake_r, 512)

    def finish(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.child.wait()
        if os.getuid() == 0:
            cgroups.remove(self.spec["scope"], self.spec["id"])
        self.save(status="stopped", pid=None, pid_start=None)
        if self.log is not None:
            self.log.close()


def _describe_signal(sig: int) -> str:
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = str(sig)
    return f"killed by signal {sig} ({name})"


def main(argv: list[str]) -> int:
    """Detach and run the unit of ``argv[0]``; the parent exits once it is starting."""
    if len(argv) != 1:
        print("usage: runner <unit dir>")
        return 2
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child:
        os.close(ready_w)
        answer = os.read(ready_r, 4096)
        if answer == b"ok":
            return 0
        os.waitpid(child, 0)  # gone before we answer: no second runner is ever seen
        print(answer.decode("utf-8", "replace") or "the unit runner died at start")
        return 1
    os.close(ready_r)
    runner: Runner | None = None
    try:
        log_fd = os.open(
            os.path.join(argv[0], unitfs.RUNNER_LOG), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640
        )
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(null)
        os.close(log_fd)
        runner = Runner(argv[0])
        runner.prepare()
    except Exception as exc:  # noqa: BLE001 - reported to the caller, then we exit
        os.write(ready_w, f"unit runner: {exc}".encode())
        os._exit(1)
    os.write(ready_w, b"ok")
    os.close(ready_w)
    try:
        runner.run()
    except Exception as exc:  # noqa: BLE001 - the last words of a dying supervisor
        runner.note(f"unit runner failed: {exc!r}")
        os._exit(1)
    os._exit(0)
