"""Starting a sandboxed command (``sandbox.py``) and the unit runner, from anywhere.

Standard library only, and light: the unit runner imports it (``spawn_sandboxed``), so
``subprocess`` and ``typing`` are imported only by the functions of the other callers.
"""

from __future__ import annotations

import json
import os
import signal
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the runner's weight)
if TYPE_CHECKING:
    import subprocess
    from typing import IO, Any

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = os.path.join(HERE, "sandbox.py")
# The directory holding the ``services`` package, for the runner's bootstrap.
CODE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
# What privileged helpers start with: nothing of the caller's or the app's environment.
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
_RUNNER_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from services.provisioner.backends.process.runner import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def sandboxed(
    cfg: dict[str, Any],
    stdout: int | IO[Any] | None,
    *,
    python: str = sys.executable,
    stdin: int | IO[Any] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cfg['argv']`` through the sandbox, in a new session (its own process group).

    The configuration (with the app's env) goes through a pipe, never argv or environ.
    ``stdin``: a terminal's side for an interactive shell (``cfg["tty"]``); /dev/null
    when None.
    """
    import subprocess

    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [python, "-I", "-S", SANDBOX, str(read_end)],
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=CLEAN_ENV,
            pass_fds=(read_end,),
            start_new_session=True,
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    _send(write_end, cfg)
    return proc


def _send(write_end: int, cfg: dict[str, Any]) -> None:
    payload = json.dumps(dict(cfg, parent=os.getpid())).encode()
    # The sandbox reads it all before anything else; if it died first, it said why.
    try:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
    except BrokenPipeError:
        pass


class Child:
    """The sandboxed command: its pid, the read end of its output, how it ended."""

    def __init__(self, pid: int, out: int) -> None:
        self.pid = pid
        self.out = out
        self.returncode: int | None = None  # -N when killed by signal N (as Popen's)

    def _reaped(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:  # reaped elsewhere: its status is lost
                self.returncode = 255
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._reaped(os.WNOHANG)

    def wait(self) -> int:
        while True:
            code = self._reaped(0)
            if code is not None:
                return code


def spawn_sandboxed(cfg: dict[str, Any], *, python: str = sys.executable) -> Child:
    """``sandboxed`` for the unit runner, without ``subprocess``: stdin from /dev/null,
    stdout and stderr into a new pipe (``Child.out``, its read end).

    posix_spawn passes only inheritable descriptors (every one Python opens is not,
    PEP 446) and resets the signals ``subprocess`` restores (SIGPIPE, SIGXFSZ).
    """
    cfg_r, cfg_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        os.set_inheritable(cfg_r, True)
        pid = os.posix_spawn(
            python,
            [python, "-I", "-S", SANDBOX, str(cfg_r)],
            CLEAN_ENV,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, out_w, 2),
            ],
            setsid=True,
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
        )
    except BaseException:
        os.close(cfg_w)
        os.close(out_r)
        raise
    finally:
        os.close(cfg_r)
        os.close(out_w)
    _send(cfg_w, cfg)
    return Child(pid, out_r)


def start_runner(unit_dir: str, *, python: str = sys.executable, timeout: float = 20.0) -> None:
    """Start the unit runner of ``unit_dir``; return once it wrote its first state.

    The runner detaches (its own session, reparented to init), so it outlives the
    process that started it. Raises RuntimeError with the runner's reason on failure.
    """
    import subprocess

    done = subprocess.run(
        [python, "-I", "-S", "-c", _RUNNER_BOOT, CODE_ROOT, unit_dir],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=CLEAN_ENV,
        start_new_session=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stdout.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise RuntimeError(reason.splitlines()[-1])
