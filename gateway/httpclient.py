"""A minimal HTTP/1.1 client connection for forwarding (keep-alive, streamed bodies).

Why not urllib3 or http.client: the gateway's throughput is its CPU per request, and
both spend most of theirs on generality (URL parsing, the email-package header
parser, retries). This one writes a request in one ``sendall``, parses the status
line and headers with C-level ``readline``, and reads bodies as they arrive
(Content-Length, chunked, or until close), which is all a reverse proxy needs.
Header names and values come from a client gunicorn already validated, or from us.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

MAX_LINE = 65536
MAX_HEADERS = 200
_NO_BODY = frozenset({204, 304})


class ProtocolError(OSError):
    """The upstream broke HTTP/1.1 framing or closed before answering."""


class ClosedBeforeAnswer(ProtocolError):
    """The connection was closed before one byte of the answer (safe to retry)."""


def _peer_closed(sock: socket.socket) -> bool:
    """Whether an idle keep-alive connection was closed by the peer (or got stray data)."""
    # gevent's socket wraps the real, non-blocking one in ``_sock``: peek on that one so
    # the call never waits in the hub. A plain socket is made non-blocking for the peek.
    raw = getattr(sock, "_sock", None)
    timeout = None
    if raw is None:
        raw, timeout = sock, sock.gettimeout()
        sock.setblocking(False)
    try:
        raw.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        if raw is sock:
            sock.settimeout(timeout)
    return True  # closed (b""), or stray bytes: either way not reusable


class Connection:
    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.sock: socket.socket | None = None
        self._rfile: Any = None
        self.used = False  # has carried a request before (a pooled connection)

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.attach(sock)

    def attach(self, sock: socket.socket) -> None:
        """Use an already connected socket (connect() does; so do the unit tests)."""
        self.sock = sock
        self._rfile = sock.makefile("rb", buffering=65536)

    def reusable(self) -> bool:
        return self.sock is not None and not _peer_closed(self.sock)

    def close(self) -> None:
        if self._rfile is not None:
            try:
                self._rfile.close()
            except OSError:
                pass
            self._rfile = None
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | Iterable[bytes] | None,
        *,
        chunked: bool,
        timeout: float | None,
    ) -> Response:
        """Send a request; return once the response's status and headers are read."""
        if self.sock is None:
            self.connect()
        sock = self.sock
        assert sock is not None
        sock.settimeout(timeout)
        lines = [f"{method} {target} HTTP/1.1\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        if "Host" not in headers:
            lines.append(f"Host: {self.host}:{self.port}\r\n")
        if chunked:
            lines.append("Transfer-Encoding: chunked\r\n")
        elif "Content-Length" not in headers:
            if isinstance(body, bytes):
                lines.append(f"Content-Length: {len(body)}\r\n")
            elif body is None and method in ("POST", "PUT", "PATCH"):
                lines.append("Content-Length: 0\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        reused = self.used
        self.used = True
        try:
            if body is None or isinstance(body, bytes):
                sock.sendall(head + body if body else head)
            else:
                sock.sendall(head)
                for chunk in body:
                    if not chunk:
                        continue
                    if chunked:
                        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    else:
                        sock.sendall(chunk)
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError) as exc:
            if reused:
                raise ClosedBeforeAnswer(str(exc)) from exc
            raise
        return self._read_head(method, reused)

    def _read_head(self, method: str, reused: bool) -> Response:
        rfile = self._rfile
        assert rfile is not None
        while True:
            try:
                line = rfile.readline(MAX_LINE)
            except ConnectionResetError as exc:
                if reused:
                    raise ClosedBeforeAnswer(str(exc)) from exc
                raise
            if not line:
                if reused:
                    raise ClosedBeforeAnswer("connection closed before the answer")
                raise ProtocolError("connection closed before the answer")
            reused = False  # a byte arrived: the request reached the upstream
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise ProtocolError(f"bad status line {line[:100]!r}")
            status = int(parts[1])
            reason = parts[2].strip().decode("latin-1") if len(parts) > 2 else ""
            headers = self._read_headers(rfile)
            if 100 <= status < 200 and status != 101:
                continue  # interim answer (100 Continue): the real one follows
            return Response(self, method, status, reason, headers, parts[0] == b"HTTP/1.0")

    @staticmethod
    def _read_headers(rfile: Any) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        while True:
            line = rfile.readline(MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                return headers
            if len(headers) >= MAX_HEADERS:
                raise ProtocolError("too many headers")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise ProtocolError(f"bad header line {line[:100]!r}")
            headers.append((name.strip(), value.strip()))


class Response:
    def __init__(
        self,
        conn: Connection,
        method: str,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        http10: bool,
    ) -> None:
        self.conn = conn
        self.status = status
        self.reason = reason
        self.headers = headers
        self._rfile = conn._rfile
        length: int | None = None
        chunked = False
        will_close = http10
        self.connection_header: str | None = None
        for name, value in headers:
            lname = name.lower()
            if lname == "content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise ProtocolError(f"bad Content-Length {value[:50]!r}") from None
                if length < 0:
                    raise ProtocolError(f"bad Content-Length {value[:50]!r}")
            elif lname == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif lname == "connection":
                self.connection_header = value
                tokens = value.lower()
                if "close" in tokens:
                    will_close = True
                elif "keep-alive" in tokens:
                    will_close = False
        if method == "HEAD" or status in _NO_BODY:
            length, chunked = 0, False
        self.chunked = chunked
        self.length = None if chunked else length
        self._remaining = 0 if chunked else length  # None: until the connection closes
        self._chunk_left = 0
        self.will_close = will_close or (self._remaining is None and not chunked)
        self.done = self._remaining == 0 and not chunked

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def read1(self, amt: int = 65536) -> bytes:
        """Some bytes of the body as soon as they are available; b"" at its end."""
        if self.done:
            return b""
        rfile = self._rfile
        assert rfile is not None
        if self.chunked:
            if self._chunk_left == 0:
                size_line = rfile.readline(MAX_LINE)
                if not size_line:
                    raise ProtocolError("connection closed inside a chunked body")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    Connection._read_headers(rfile)  # trailers, dropped
                    self.done = True
                    return b""
                self._chunk_left = size
            data = rfile.read1(min(amt, self._chunk_left))
            if not data:
                raise ProtocolError("connection closed inside a chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                rfile.readline(MAX_LINE)  # the chunk's CRLF
            return data
        if self._remaining is None:
            data = rfile.read1(amt)
            if not data:
                self.done = True
            return data
        data = rfile.read1(min(amt, self._remaining))
        if not data:
            raise ProtocolError("connection closed before the end of the body")
        self._remaining -= len(data)
        if self._remaining == 0:
            self.done = True
        return data

    def read(self) -> bytes:
        parts = []
        while chunk := self.read1(1 << 20):
            parts.append(chunk)
        return b"".join(parts)

    @property
    def reusable(self) -> bool:
        return self.done and not self.will_close
