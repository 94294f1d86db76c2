"""The gateway's gunicorn worker: gunicorn's gevent worker, plain requests served by
gateway/fastpath.py, a response head sent with its body.

``gunicorn -c deploy/gunicorn.py -k gateway.worker.GatewayWorker gateway.wsgi:app``
(scripts/stack.py and the test harness pass it; services keep the ``gevent`` worker).

gunicorn writes a response's head and the body bytes of the first ``write()`` with two
``sendall`` calls. On loopback a send costs about as much as parsing a small request,
and the gateway's throughput is its CPU per request (client, gateway and services
share the machine's CPUs). This worker sends the head together with the body bytes of
that same ``write()``: the client receives the same bytes at the same moment (the head
never waits for a later chunk of a streamed body), in one segment instead of two.
Everything else (parsing, validation, keep-alive, the websocket take-over through
``gunicorn.socket`` and ``StopIteration``) is gunicorn's own, except that gunicorn's
own error answers are plain text (shared/httpserver.py) and an application answer
carrying ``Connection: close`` closes the connection (a refused body is not read).

gevent's pywsgi (gunicorn's ``gevent_pywsgi`` worker) was measured too: a quarter
fewer instructions per request, but it accepts what gunicorn refuses (two
Content-Length headers, Content-Length with chunked, folded header lines that it
forwards with their CR LF), sends a body to HEAD requests and ignores absolute-form
targets; not a drop-in replacement for the public entry point.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from typing import Any

from gunicorn.http import wsgi

from shared.httpserver import ServiceWorker

from .apptls import HANDSHAKE_TIMEOUT, start_certificates
from .fastpath import FastLoop, Handover
from .settings import GatewaySettings


class _Hold:
    """Stands in for the client socket while gunicorn writes a response head."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.parts.append(bytes(data))


class CoalescingResponse(wsgi.Response):  # type: ignore[misc]
    """gunicorn's Response; inside ``write()`` the head waits for that write's body."""

    sock: Any  # gunicorn's client socket (set by Response.__init__)
    _pending: bytes | None = None
    _in_write = False

    def send_headers(self) -> None:
        if not self._in_write or self.headers_sent:
            super().send_headers()
            return
        # gunicorn's own head, captured instead of sent; it leaves by the end of write().
        sock, hold = self.sock, _Hold()
        self.sock = hold
        try:
            super().send_headers()
        finally:
            self.sock = sock
        self._pending = b"".join(hold.parts)

    def process_headers(self, headers: Any) -> None:
        # gunicorn drops hop-by-hop headers the application sets; "Connection: close"
        # from the gateway means: do not keep this connection (nor read on).
        if any(n.lower() == "connection" and v.lower() == "close" for n, v in headers):
            self.must_close = True
        super().process_headers(headers)

    def write(self, arg: Any) -> None:
        self._in_write = True
        try:
            super().write(arg)
        finally:
            self._in_write = False
            pending = self._pending
            if pending is not None:
                # No body bytes went out with the head (empty or omitted): send it alone.
                self._pending = None
                self.sock.sendall(pending)

    def _emit_body(self, data: bytes) -> None:
        pending = self._pending
        if pending is None:
            super()._emit_body(data)
            return
        self._pending = None
        if self.chunked:  # gunicorn.util.write_chunk's framing
            data = b"%X\r\n%s\r\n" % (len(data), data)
        self.sock.sendall(pending + data)


class _Replay:
    """The client socket handed to gunicorn, the bytes already read coming first."""

    def __init__(self, sock: Any, data: bytes) -> None:
        self._sock = sock
        self._data = data

    def recv(self, size: int, *flags: int) -> bytes:
        data = self._data
        if data:
            self._data = data[size:]
            return data[:size]
        return self._sock.recv(size, *flags)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


# gateway/frontproc.py's Unix socket: the connections the front hands over, each one
# starting with a PROXY protocol (v1) line that carries the client's address.
FRONT_SOCKET_ENV = "TSUBAME_GATEWAY_FRONT_SOCKET"
_PROXY_MAX = 107  # the longest v1 line, CR LF included
_PROXY_TIMEOUT = 5.0


class _Listener:
    """A listener as the client reached it (the front's address, not the socket's)."""

    def __init__(self, sock: Any, name: tuple[str, int]) -> None:
        self._sock = sock
        self._name = name

    def getsockname(self) -> tuple[str, int]:
        return self._name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def read_proxy_line(client: Any) -> tuple[bytes, tuple[str, int] | None, tuple[str, int] | None]:
    """The bytes after a PROXY v1 line read from ``client``, the client's address and
    the address it reached (None, None for ``PROXY UNKNOWN``). ValueError: no such line."""
    data = b""
    while b"\r\n" not in data:
        if len(data) > _PROXY_MAX:
            raise ValueError("PROXY line too long")
        chunk = client.recv(_PROXY_MAX + 1)
        if not chunk:
            raise ValueError("closed before its PROXY line")
        data += chunk
    line, _, rest = data.partition(b"\r\n")
    parts = line.decode("ascii", "replace").split(" ")
    if parts[:2] == ["PROXY", "UNKNOWN"]:
        return rest, None, None
    if len(parts) != 6 or parts[0] != "PROXY" or parts[1] not in ("TCP4", "TCP6"):
        raise ValueError(f"not a PROXY line: {line[:_PROXY_MAX]!r}")
    return rest, (parts[2], int(parts[4])), (parts[3], int(parts[5]))


class GatewayWorker(ServiceWorker):
    """Plain requests through gateway/fastpath.py, every other one through gunicorn."""

    _fast: FastLoop | None = None
    # TSUBAME_TLS_PORT: connections accepted on that listener speak TLS (gateway/apptls.py).
    _tls: ssl.SSLContext | None = None
    _tls_port = 0

    def init_process(self) -> None:
        # gunicorn.http.wsgi.create() builds HTTP/1 responses from this module attribute
        # (HTTP/2 passes its own class); this worker process runs only the gateway.
        wsgi.Response = CoalescingResponse
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        cfg = self.cfg
        # The fast path writes no access log, speaks no TLS nor PROXY protocol: with
        # any of them every request goes through gunicorn.
        if not (cfg.accesslog or cfg.is_ssl or cfg.proxy_protocol not in (False, "off", None)):
            self._fast = FastLoop(self)
        settings = GatewaySettings.from_env()
        if settings.tls_port:
            self._tls_port = settings.tls_port
            self._tls = start_certificates(settings)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        if listener.family == socket.AF_UNIX:
            front = os.environ.get(FRONT_SOCKET_ENV)
            if front and listener.getsockname() == front:
                taken = self._from_front(listener, client)
                if taken is None:
                    return
                listener, client, addr = taken
        if (
            self._tls is not None
            and listener.family != socket.AF_UNIX
            and listener.getsockname()[1] == self._tls_port
        ):
            self._handle_tls(listener, client, addr)
            return
        fast = self._fast
        if fast is None:
            super().handle(listener, client, addr)
            return
        client.setblocking(1)
        handed = False
        try:
            fast.serve(listener, client, addr)
        except Handover as turn:
            handed = True  # gunicorn closes it when done
            super().handle(listener, _Replay(client, turn.data) if turn.data else client, addr)
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        finally:
            if not handed:
                try:
                    client.close()
                except OSError:
                    pass

    def _from_front(self, listener: Any, client: Any) -> tuple[Any, Any, Any] | None:
        """A connection the front handed over, as if its client had made it here."""
        try:
            client.settimeout(_PROXY_TIMEOUT)
            rest, peer, local = read_proxy_line(client)
            client.settimeout(None)
        except (OSError, ValueError) as exc:
            self.log.warning("refused a connection from the front: %s", exc)
            try:
                client.close()
            except OSError:
                pass
            return None
        if local is not None:
            listener = _Listener(listener, local)
        return listener, _Replay(client, rest) if rest else client, peer or ""

    def _handle_tls(self, listener: Any, client: Any, addr: Any) -> None:
        """The TLS handshake (the certificate chosen by SNI), then gunicorn's own loop."""
        assert self._tls is not None
        client.settimeout(HANDSHAKE_TIMEOUT)
        try:
            secure = self._tls.wrap_socket(client, server_side=True)
            secure.settimeout(None)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            self.log.debug("TLS handshake refused or failed: %s", exc)
            try:
                client.close()
            except OSError:
                pass
            return
        super().handle(listener, secure, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        # Over TLS the scheme is https whatever the client's headers say.
        if isinstance(sock, ssl.SSLSocket):
            req.scheme = "https"
        return super().handle_request(listener_name, req, sock, addr)
