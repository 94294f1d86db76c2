"""The files of one unit directory, shared by the unit runner and the backend.

``<root>/units/<unit id>/``:

* ``spec.json``   what to run (written by the backend; 0600, it holds the env)
* ``state.json``  what runs: status, restarts, port, runner and child pids (the runner)
* ``output.log``  the unit's stdout/stderr, one ``<unix time> <text>`` line each,
  rotated to ``output.log.1`` at a size limit (the runner)
* ``reader.json`` how far the backend forwarded ``output.log`` (the backend)
* ``stop.json``   a stop request and its grace period (the backend, then SIGTERM)
* ``runner.log``  the runner's own notices
* ``home/``, ``tmp/`` the unit's own writable directories (owned by the app user)

Standard library only: the unit runner imports it.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the runner's weight)
if TYPE_CHECKING:
    from typing import Any

SPEC = "spec.json"
STATE = "state.json"
OUTPUT = "output.log"
READER = "reader.json"
STOP = "stop.json"
RUNNER_LOG = "runner.log"
HOME = "home"
TMP = "tmp"
MAX_LINE = 16 << 10  # longer output lines are split


def read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: str, data: dict[str, Any], mode: int = 0o640) -> None:
    """Replace ``path`` atomically: readers see the old or the new document, never half."""
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"  # unique per writer thread
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.write(fd, json.dumps(data, sort_keys=True).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def proc_start(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live process; None if dead or a zombie.

    The pair (pid, start time) names one process for good: a reused pid has another
    start time.
    """
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # "pid (comm) state ..." where comm may hold spaces and parentheses.
    fields = raw[raw.rfind(b")") + 2 :].split()
    if not fields or fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def alive(pid: int | None, start: int | None) -> bool:
    return bool(pid) and start is not None and proc_start(int(pid or 0)) == start


def format_line(text: bytes, when: float | None = None) -> bytes:
    return b"%.6f " % (time.time() if when is None else when) + text + b"\n"


def parse_line(raw: bytes) -> tuple[float, str]:
    stamp, _, text = raw.partition(b" ")
    try:
        when = float(stamp)
    except ValueError:
        return time.time(), raw.decode("utf-8", "replace")
    return when, text.decode("utf-8", "replace")


class RotatingLog:
    """Appends lines to ``path``; past ``max_bytes`` it becomes ``path.1`` (one backup,
    replaced at the next rotation) and a new file starts."""

    def __init__(self, path: str, max_bytes: int, mode: int = 0o640) -> None:
        self.path = path
        self.max_bytes = max(4096, max_bytes)
        self.mode = mode
        self._fd = self._open()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, self.mode)

    def write(self, lines: list[bytes]) -> None:
        """Append whole lines, rotating between two lines so no file outgrows the limit."""
        size = os.fstat(self._fd).st_size
        batch: list[bytes] = []
        for line in lines:
            if size + len(line) > self.max_bytes and (size or batch):
                self._flush(batch)
                batch = []
                os.replace(self.path, self.path + ".1")
                os.close(self._fd)
                self._fd = self._open()
                size = 0
            batch.append(line)
            size += len(line)
        self._flush(batch)

    def _flush(self, batch: list[bytes]) -> None:
        data = b"".join(batch)
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        os.close(self._fd)


class LineSplitter:
    """Cuts a byte stream into lines (splitting very long ones); keeps the partial tail."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._tail + data
        lines = buf.split(b"\n")
        self._tail = lines.pop()
        out: list[bytes] = []
        for line in lines:
            out.extend(_chunks(line.rstrip(b"\r")))
        while len(self._tail) > MAX_LINE:
            out.append(self._tail[:MAX_LINE])
            self._tail = self._tail[MAX_LINE:]
        return out

    def flush(self) -> list[bytes]:
        tail, self._tail = self._tail, b""
        return _chunks(tail) if tail else []


def _chunks(line: bytes) -> list[bytes]:
    if len(line) <= MAX_LINE:
        return [line]
    return [line[i : i + MAX_LINE] for i in range(0, len(line), MAX_LINE)]
