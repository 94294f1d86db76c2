"""The running launcher's control socket: ``scale`` and ``status`` from another shell.

``make run`` listens on ``$TSUBAME_DATA_DIR/run/control/launcher.sock`` (a Unix socket
in a 0700 directory: only the user who runs the stack can reach it).
``python -m scripts.stack scale apps=1`` and ``... status`` connect to it.

Protocol: the client sends one JSON object on one line (``{"op": "scale", "counts":
{"apps": 1}}`` or ``{"op": "status"}``); the launcher answers JSON lines: progress
(``{"log": "..."}``) then one final object with ``"done": true`` and ``"ok"``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MAX_REQUEST = 64 * 1024
REQUEST_TIMEOUT = 5.0
# sun_path holds 108 bytes; a longer path is reached through /proc/self/fd.
_SUN_PATH_MAX = 100

Send = Callable[[dict[str, Any]], None]
Handler = Callable[[dict[str, Any], Send], dict[str, Any]]


def socket_path(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "run" / "control" / "launcher.sock"


@contextlib.contextmanager
def _short(path: Path) -> Iterator[str]:
    """A name for ``path`` that fits in sun_path (Linux: through a directory fd)."""
    if len(os.fsencode(str(path))) <= _SUN_PATH_MAX:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


class LauncherNotRunning(Exception):
    pass


def request(data_dir: Path, message: dict[str, Any], timeout: float = 600.0) -> Iterator[Any]:
    """Send ``message`` to the launcher of ``data_dir``; yield each answer line."""
    path = socket_path(data_dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        with _short(path) as name:
            try:
                sock.connect(name)
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                raise LauncherNotRunning(
                    f"no running stack for {data_dir} (start it with make run): {exc}"
                ) from None
        sock.sendall(json.dumps(message).encode() + b"\n")
        with sock.makefile("rb") as lines:
            for line in lines:
                yield json.loads(line)
    finally:
        sock.close()


def running(data_dir: Path) -> bool:
    """Whether a launcher answers on the data directory's control socket."""
    try:
        for answer in request(data_dir, {"op": "ping"}, timeout=5.0):
            if answer.get("done"):
                return True
    except (LauncherNotRunning, OSError, ValueError):
        return False
    return False


class ControlServer:
    """Serves one connection at a time, on the thread that calls ``serve_once``."""

    def __init__(self, data_dir: Path, handler: Handler) -> None:
        self.path = socket_path(data_dir)
        self._handler = handler
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a launcher killed with -9 (checked by the caller)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with _short(self.path) as name:
            self._sock.bind(name)
        self._sock.listen(4)

    def serve_once(self, timeout: float) -> None:
        """Handle one connection if one arrives within ``timeout`` seconds."""
        self._sock.settimeout(timeout)
        try:
            conn, _ = self._sock.accept()
        except TimeoutError:
            return
        with conn:
            conn.settimeout(REQUEST_TIMEOUT)
            try:
                message = _read_request(conn)
            except (OSError, ValueError) as exc:
                _send(conn, {"done": True, "ok": False, "error": f"bad request: {exc}"})
                return

            def progress(line: dict[str, Any]) -> None:
                _send(conn, line)

            try:
                answer = self._handler(message, progress)
            except Exception as exc:  # reported to the client, the launcher goes on
                answer = {"ok": False, "error": str(exc) or type(exc).__name__}
            _send(conn, {"done": True, **answer})

    def close(self) -> None:
        self._sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _read_request(conn: socket.socket) -> dict[str, Any]:
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST:
            raise ValueError("request too large")
    message = json.loads(data.split(b"\n", 1)[0] or b"null")
    if not isinstance(message, dict):
        raise ValueError("a JSON object expected")
    return message


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # a client that left does not stop the launcher
        conn.sendall(json.dumps(message).encode() + b"\n")
