"""An interactive shell as the app user (``tsuru app-shell``): ``bash -l`` (``sh -l``
when the machine has no bash) on a pseudo-terminal, beside a unit or in an isolated
one, placed exactly as ``exec`` places a command (execute.py)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import subprocess
import termios
from collections.abc import Iterator
from typing import TYPE_CHECKING

from services.provisioner.backends.base import ExecRequest
from services.provisioner.backends.process import launch
from services.provisioner.backends.process.execute import placed

if TYPE_CHECKING:
    from services.provisioner.backends.process.backend import ProcessBackend

LOGIN_SHELL = "if [ -x /bin/bash ]; then exec /bin/bash -l; else exec /bin/sh -l; fi"


def set_size(fd: int, width: int, height: int) -> None:
    if width > 0 and height > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


class Shell:
    """The running shell: ``fd`` is the terminal's master side (read its output, write
    its input); ``close()`` ends it."""

    def __init__(self, proc: subprocess.Popen[bytes], fd: int) -> None:
        self.proc = proc
        self.fd = fd

    def resize(self, width: int, height: int) -> None:
        set_size(self.fd, width, height)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGHUP)
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.fd)


@contextlib.contextmanager
def open_shell(
    backend: ProcessBackend, req: ExecRequest, *, width: int = 0, height: int = 0, term: str = ""
) -> Iterator[Shell]:
    env = dict(req.env, TERM=term or req.env.get("TERM", "") or "xterm")
    request = ExecRequest(
        app=req.app,
        command=LOGIN_SHELL,
        env=env,
        release=req.release,
        unit=req.unit,
        limits=req.limits,
        mounts=req.mounts,
        node=req.node,
        timeout=req.timeout,
    )
    with placed(backend, request, ["/bin/sh", "-c", LOGIN_SHELL]) as (cfg, kill_rest):
        master, slave = pty.openpty()
        try:
            set_size(slave, width, height)
            proc = launch.sandboxed(dict(cfg, tty=True), stdout=slave, stdin=slave)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        shell = Shell(proc, master)
        try:
            yield shell
        finally:
            shell.close()
            kill_rest()
