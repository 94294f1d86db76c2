"""A small RFC 6455 websocket server for tsuru's websocket routes (the app shell).

tsuru serves ``GET /apps/{appname}/shell`` as a websocket; the gateway splices the
client's connection to the service once the service answers ``101`` (gateway/
tunnel.py). ``accept(environ)`` answers the handshake on gunicorn's socket and
returns a ``WebSocket``; the view then returns ``hijacked()``, and ``Hijacking``
(wrapped around the service's WSGI app) ends the request with ``StopIteration``,
which gunicorn's async workers take as "close this connection, write nothing".

Frames: text and binary, fragmented or not, control frames answered (ping -> pong,
close -> close); client frames must be masked; a frame or message larger than
``max_message`` closes the connection (1009).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HIJACKED = "tsubame.hijacked"
MAX_MESSAGE = 1024 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class HandshakeError(Exception):
    """Not a websocket handshake this server can answer."""


class Closed(Exception):
    """The connection is closed (by the peer, or after an error)."""


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def is_upgrade(environ: dict[str, Any]) -> bool:
    connection = str(environ.get("HTTP_CONNECTION", "")).lower()
    upgrade = str(environ.get("HTTP_UPGRADE", "")).lower()
    return "upgrade" in connection and upgrade == "websocket"


def accept(environ: dict[str, Any], headers: Iterable[tuple[str, str]] = ()) -> WebSocket:
    """Answer the handshake (101) on the request's socket; HandshakeError when it is
    not one (or the server cannot hand its socket over)."""
    sock = environ.get("gunicorn.socket")
    if sock is None:
        raise HandshakeError("this server cannot upgrade connections")
    if environ.get("REQUEST_METHOD") != "GET" or not is_upgrade(environ):
        raise HandshakeError("not a websocket handshake")
    key = str(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""))
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError as exc:
        raise HandshakeError("bad Sec-WebSocket-Key") from exc
    if environ.get("HTTP_SEC_WEBSOCKET_VERSION", "") != "13":
        raise HandshakeError("unsupported websocket version")
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_key(key)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    environ[HIJACKED] = True
    return WebSocket(sock)


def hijacked() -> Response:
    """What a view returns after ``accept``: never written (see ``Hijacking``)."""
    return Response(b"", status=101)


class Hijacking:
    """WSGI middleware: a request whose connection a view took over ends there."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        result = self.app(environ, start_response)
        if environ.get(HIJACKED):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise StopIteration  # gunicorn: close the connection, write nothing
        return result


class WebSocket:
    """One accepted connection. ``send_*`` may be called from several threads."""

    def __init__(self, sock: socket.socket, *, max_message: int = MAX_MESSAGE) -> None:
        self.sock = sock
        self.max_message = max_message
        self._send_lock = threading.Lock()
        self._buffer = b""
        self.closed = False
        self._last_frame = time.monotonic()

    def idle(self) -> float:
        """Seconds since the last frame from the peer (pongs included)."""
        return time.monotonic() - self._last_frame

    # -- sending -------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self._send_lock:
            if self.closed and opcode != OP_CLOSE:
                raise Closed("the websocket is closed")
            try:
                self.sock.sendall(head + payload)
            except OSError as exc:
                self.closed = True
                raise Closed(str(exc)) from exc

    def send_text(self, text: str) -> None:
        self._send(OP_TEXT, text.encode("utf-8"))

    def send_bytes(self, data: bytes) -> None:
        self._send(OP_BINARY, data)

    def ping(self, data: bytes = b"") -> None:
        self._send(OP_PING, data)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once) and shut the socket down."""
        with self._send_lock:
            already = self.closed
            self.closed = True
        if not already:
            try:
                self.sock.sendall(_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()))
            except OSError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- receiving -----------------------------------------------------------------

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            try:
                chunk = self.sock.recv(max(n - len(self._buffer), 65536))
            except OSError as exc:
                raise Closed(str(exc)) from exc
            if not chunk:
                raise Closed("the peer closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._read(2)
        self._last_frame = time.monotonic()
        fin, opcode, masked, size = bool(b1 & 0x80), b1 & 0x0F, bool(b2 & 0x80), b2 & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read(8))
        if not masked:
            self.close(1002, "client frames must be masked")
            raise Closed("unmasked client frame")
        if size > self.max_message or (opcode >= OP_CLOSE and (size > 125 or not fin)):
            self.close(1009 if opcode < OP_CLOSE else 1002, "frame too large")
            raise Closed("frame too large")
        mask = self._read(4)
        raw = self._read(size)
        if not size:
            return fin, opcode, b""
        key = (mask * (size // 4 + 1))[:size]
        data = (int.from_bytes(raw, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
        return fin, opcode, data

    def receive(self) -> str | bytes:
        """The next text (str) or binary (bytes) message; control frames are handled
        on the way. Raises Closed when the connection ends."""
        parts: list[bytes] = []
        kind = 0
        while True:
            fin, opcode, data = self._frame()
            if opcode == OP_PING:
                self._send(OP_PONG, data)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                self.close()
                raise Closed("the peer closed the websocket")
            if opcode in (OP_TEXT, OP_BINARY):
                if parts:
                    self.close(1002, "expected a continuation frame")
                    raise Closed("protocol error")
                kind = opcode
            elif opcode != OP_CONT or not parts and not kind:
                self.close(1002, "unexpected frame")
                raise Closed("protocol error")
            parts.append(data)
            if sum(len(p) for p in parts) > self.max_message:
                self.close(1009, "message too large")
                raise Closed("message too large")
            if fin:
                message = b"".join(parts)
                if kind == OP_TEXT:
                    try:
                        return message.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        self.close(1007, "invalid utf-8")
                        raise Closed("invalid utf-8") from exc
                return message


def _frame(opcode: int, payload: bytes) -> bytes:
    return struct.pack("!BB", 0x80 | opcode, len(payload)) + payload
