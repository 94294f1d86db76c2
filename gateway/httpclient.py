"""A minimal HTTP/1.1 client connection for forwarding (keep-alive, streamed bodies).

Why not urllib3 or http.client: the gateway's throughput is its CPU per request, and
both spend most of theirs on generality (URL parsing, the email-package header
parser, retries). This one writes a request in one ``sendall``, usually receives a
small answer in one ``recv`` and parses it with bytes methods, and reads bodies as
they arrive
(Content-Length, chunked, or until close), which is all a reverse proxy needs.
Header names and values come from a client gunicorn already validated, or from us.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterable

from gevent.monkey import get_original

from .sockio import Deadline, is_fast, recv_now, recv_waiting, send_all

MAX_LINE = 65536
MAX_HEAD = 256 * 1024
RECV = 65536
MAX_HEADERS = 200
_NO_BODY = frozenset({204, 304})


class ProtocolError(OSError):
    """The upstream broke HTTP/1.1 framing or closed before answering."""


class NotSent(ProtocolError):
    """The request could not be written whole: the upstream cannot have acted on it,
    so any request may go to another instance (if its body can be sent again)."""


class NoAnswer(ProtocolError):
    """The request was written, then the connection closed (or was reset) before one
    byte of an answer. The upstream may have acted on it (an instance killed while
    handling it): only an idempotent request may be sent again elsewhere."""

    def __init__(self, message: str, reused: bool) -> None:
        super().__init__(message)
        self.reused = reused


# The standard poll (gunicorn's gevent worker patches the select module): a check that
# never waits, so it must not go through gevent's hub.
_poll = get_original("select", "poll")
_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class _Idle:
    """Whether an idle keep-alive connection was closed by the peer (or got stray data):
    its socket is readable. One ``poll`` with no timeout, the descriptor registered
    once per socket; a ``recv(MSG_PEEK)`` on a non-blocking socket costs a failed call
    and an exception each time the connection is fine (nearly always)."""

    __slots__ = ("_poll",)

    def __init__(self, sock: socket.socket) -> None:
        self._poll = _poll()
        self._poll.register(sock.fileno(), _READABLE)

    def closed(self) -> bool:
        return bool(self._poll.poll(0))


class Connection:
    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.sock: socket.socket | None = None
        # Bytes received and not consumed yet. One recv() usually brings a whole small
        # answer, which is then parsed with bytes methods: far fewer Python calls than a
        # buffered file object's readline() per line.
        self._buf = bytearray()
        self.used = False  # has carried a request before (a pooled connection)
        self.idle_since = 0.0  # time.monotonic() when it was last given back to a pool
        # gevent's socket (gateway/sockio.py): the wait for an answer's head is bounded
        # by a reusable deadline and reads of a body by none, whatever the socket's own
        # timeout, which then bounds the writes only and is set only when it changes.
        self._fast = False
        self._sock_timeout: float | None = None
        self._deadline: Deadline | None = None
        self._idle: _Idle | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.attach(sock)

    def attach(self, sock: socket.socket) -> None:
        """Use an already connected socket (connect() does; so do the unit tests)."""
        self.sock = sock
        self._buf = bytearray()
        self._fast = is_fast(sock)
        self._sock_timeout = sock.gettimeout()
        self._idle = None

    def reusable(self) -> bool:
        if self.sock is None or self._buf:
            return False
        idle = self._idle
        if idle is None:
            idle = self._idle = _Idle(self.sock)
        return not idle.closed()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self._buf = bytearray()
        self._idle = None
        if self._deadline is not None:
            self._deadline.close()
            self._deadline = None

    def streaming(self) -> None:
        """The answer's head is in: its body is read without a timeout (a followed log
        may stay silent for a long time)."""
        if not self._fast and self.sock is not None:
            self.sock.settimeout(None)
            self._sock_timeout = None

    def take_buffer(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data

    # -- reading ------------------------------------------------------------------------

    def _recv(self, amt: int = RECV) -> bool:
        assert self.sock is not None
        data = recv_now(self.sock, amt)
        if not data:
            return False
        self._buf += data
        return True

    def readline(self) -> bytes:
        """One line with its end (b"" at EOF); bounded by MAX_LINE."""
        buf = self._buf
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if i >= 0:
                line = bytes(buf[: i + 1])
                del buf[: i + 1]
                return line
            if len(buf) > MAX_LINE:
                raise ProtocolError("line too long")
            start = len(buf)
            if not self._recv():
                line = bytes(buf)
                buf.clear()
                return line

    def read1(self, amt: int) -> bytes:
        """Up to ``amt`` bytes: what is buffered, else what one recv() brings."""
        buf = self._buf
        if buf:
            data = bytes(buf[:amt])
            del buf[:amt]
            return data
        assert self.sock is not None
        return recv_now(self.sock, amt)

    # -- one exchange ---------------------------------------------------------------------

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
        lines = [f"{method} {target} HTTP/1.1\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in headers.items()]
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
        return self.exchange(method, head, body, chunked=chunked, timeout=timeout)

    def exchange(
        self,
        method: str,
        head: bytes,
        body: bytes | Iterable[bytes] | None = None,
        *,
        chunked: bool = False,
        timeout: float | None,
    ) -> Response:
        """``request()`` with its head written already (the blank line included)."""
        if self.sock is None:
            self.connect()
        sock = self.sock
        assert sock is not None
        if timeout != self._sock_timeout:
            sock.settimeout(timeout)
            self._sock_timeout = timeout
        if self._fast and (self._deadline is None or self._deadline.seconds != timeout):
            if self._deadline is not None:
                self._deadline.close()
            self._deadline = Deadline(timeout)
        reused = self.used
        self.used = True
        try:
            if body is None or isinstance(body, bytes):
                send_all(sock, head + body if body else head)
            else:
                send_all(sock, head)
                for chunk in body:
                    if not chunk:
                        continue
                    if chunked:
                        send_all(sock, b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    else:
                        send_all(sock, chunk)
                if chunked:
                    send_all(sock, b"0\r\n\r\n")
        except TimeoutError:
            raise
        except ConnectionError as exc:
            # The peer closed or reset before taking the whole request.
            raise NotSent(str(exc)) from exc
        return self._read_head(method, reused)

    def _read_head(self, method: str, reused: bool) -> Response:
        buf = self._buf
        sock = self.sock
        assert sock is not None
        deadline = self._deadline
        answered = False  # an interim answer (100 Continue) came already
        while True:
            start = 0
            while True:
                end = buf.find(b"\r\n\r\n", start)
                if end >= 0:
                    break
                if len(buf) > MAX_HEAD:
                    raise ProtocolError("answer head too large")
                start = max(0, len(buf) - 3)
                try:
                    # The answer of a request just written is rarely there yet: wait first.
                    data = recv_waiting(sock, RECV, deadline)
                    if data:
                        buf += data
                    received = bool(data)
                except ConnectionResetError as exc:
                    if answered or buf:
                        raise
                    raise NoAnswer(str(exc), reused) from exc
                if not received:
                    if answered or buf:
                        raise ProtocolError("connection closed before the answer")
                    raise NoAnswer("connection closed before the answer", reused)
            head = bytes(buf[:end])
            del buf[: end + 4]
            answered = True  # bytes arrived: the request reached the upstream
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise ProtocolError(f"bad status line {status_line[:100]!r}")
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                continue  # interim answer (100 Continue): the real one follows
            if len(header_lines) > MAX_HEADERS:
                raise ProtocolError("too many headers")
            headers = []
            for line in header_lines:
                name, sep, value = line.partition(":")
                if not sep:
                    raise ProtocolError(f"bad header line {line[:100]!r}")
                headers.append((name.strip(), value.strip()))
            reason = parts[2].strip() if len(parts) > 2 else ""
            return Response(self, method, status, reason, headers, parts[0] == "HTTP/1.0")

    def read_trailers(self) -> None:
        while self.readline() not in (b"\r\n", b"\n", b""):
            pass


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
        conn = self.conn
        if self.chunked:
            if self._chunk_left == 0:
                size_line = conn.readline()
                if not size_line:
                    raise ProtocolError("connection closed inside a chunked body")
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size {size_line[:50]!r}") from None
                if size == 0:
                    conn.read_trailers()  # dropped
                    self.done = True
                    return b""
                self._chunk_left = size
            data = conn.read1(min(amt, self._chunk_left))
            if not data:
                raise ProtocolError("connection closed inside a chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                conn.readline()  # the chunk's CRLF
            return data
        if self._remaining is None:
            data = conn.read1(amt)
            if not data:
                self.done = True
            return data
        data = conn.read1(min(amt, self._remaining))
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
