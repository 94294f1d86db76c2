"""Running one sandboxed command to its end with its output streamed (build steps, exec)."""

from __future__ import annotations

import codecs
import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from services.provisioner.backends.base import BackendError, Canceled, Output
from services.provisioner.backends.process import launch


def exit_code(returncode: int) -> int:
    """A shell's view of the status: 128 + n for a command killed by signal n."""
    return 128 - returncode if returncode < 0 else returncode


def run(
    cfg: dict[str, Any],
    output: Output,
    *,
    cancel: threading.Event | None,
    timeout: float,
    what: str,
    kill_rest: Callable[[], None] = lambda: None,
) -> int:
    """Run ``cfg`` (see sandbox.py) and return its exit code.

    Raises Canceled when ``cancel`` is set and BackendError after ``timeout`` seconds;
    the command's whole process group (and ``kill_rest``: its cgroup) is killed first.
    """
    proc = launch.sandboxed(cfg, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.fileno()
    os.set_blocking(out, False)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    deadline = time.monotonic() + timeout
    failure: BackendError | None = None

    def kill() -> None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        kill_rest()

    try:
        while proc.poll() is None:
            if cancel is not None and cancel.is_set():
                failure = Canceled("canceled")
            elif time.monotonic() > deadline:
                failure = BackendError(f"{what} timed out after {timeout:g} seconds")
            if failure is not None:
                kill()
                proc.wait()
                break
            readable, _, _ = select.select([out], [], [], 0.1)
            if readable:
                _forward(out, decoder, output)
        # What its leftovers print after it exited is not its output: end them.
        kill()
        end = time.monotonic() + 1.0
        while time.monotonic() < end and _forward(out, decoder, output):
            pass
        tail = decoder.decode(b"", final=True)
        if tail:
            output(tail)
    finally:
        if proc.poll() is None:
            kill()
            proc.wait()
        proc.stdout.close()
    if failure is not None:
        raise failure
    return exit_code(proc.returncode)


def _forward(fd: int, decoder: codecs.IncrementalDecoder, output: Output) -> bool:
    """Copy what is readable now; False at end of stream."""
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        readable, _, _ = select.select([fd], [], [], 0.05)
        return True
    if not data:
        return False
    text = decoder.decode(data)
    if text:
        output(text)
    return True
