"""The gateway's asyncio front: the express lane on uvloop, everything else behind it.

    python -m gateway.front -- gunicorn -c deploy/gunicorn.py -k gateway.worker.GatewayWorker \\
        gateway.wsgi:app --bind HOST:PORT [...]

(``TSUBAME_GATEWAY_FRONT=1`` makes scripts/stack.py start its gateways so.) Measured
under load (gateway/README.md, "Speed"), a gevent worker pays in Python for each wake
of its event loop; this process serves the express lane's requests (gateway/express.py:
a plain GET to a service route or an app, a token whose introspection is cached) on
asyncio + uvloop, with the same plan, signatures, counters and answers, and hands
every other connection, from the first byte of the first request it does not serve,
to the gateway's gunicorn behind it: the command after ``--``, which it starts with
its first ``--bind`` turned into a Unix socket of its own. That connection then
starts with a PROXY protocol line carrying the client's address (gateway/worker.py
reads it on that socket only), and its bytes are spliced both ways until either side
ends: refusals, bodies, streams, websockets, local routes, uncached tokens are the
gateway's own, unchanged.

A token not in the cache is introspected here too (in a thread: the gateway's
``Introspector``, once for all the requests waiting for it), then the request planned
again: cached, it is served here; refused or failing, it is handed over (the gateway's
401 or 503). The front and gunicorn share the instance's metrics directory (prepared here
first, shared/httpserver.py leaves it). When gunicorn exits the front stops with its
code; when the front dies gunicorn gets SIGTERM (PR_SET_PDEATHSIG). SIGTERM/SIGINT:
stop accepting, finish what is in flight (gunicorn's graceful timeout), stop gunicorn.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.httpserver import LINGER_READS, LINGER_SECONDS

from .fastpath import split_head
from .frontup import Exchange, Pools

log = logging.getLogger("tsubame.gateway")

# gunicorn's limits as deploy/gunicorn.py leaves them (its defaults)
MAX_LINE, MAX_FIELDS, MAX_FIELD = 4094, 100, 8190
MAX_HEAD = (MAX_LINE + 2) + MAX_FIELDS * (MAX_FIELD + 2) + 2
KEEPALIVE = 5.0  # deploy/gunicorn.py's keepalive
GRACE = 5.0  # its graceful_timeout
FIRST_WAIT = 1.0  # stopping: how long a new connection's first request is waited for
_IDLE, _BUSY, _HANDED = range(3)
_WRITE_HIGH = 256 * 1024
LINGER_BYTES = LINGER_READS * 64 * 1024  # as gunicorn's workers drop (shared/httpserver.py)
INTROSPECTIONS_MAX = 256  # distinct tokens asked at once
INTROSPECT_THREADS = 4


class _Sink:
    """fastresponse.Response's socket: its writes go to the client's transport."""

    __slots__ = ("transport",)

    def __init__(self, transport: Any) -> None:
        self.transport = transport

    def sendall(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)


def proxy_line(peer: Any, local: Any) -> bytes:
    """The PROXY protocol (v1) line for a client at ``peer`` that reached ``local``."""
    if not isinstance(peer, tuple) or not isinstance(local, tuple):
        return b"PROXY UNKNOWN\r\n"
    family = "TCP6" if ":" in peer[0] else "TCP4"
    return f"PROXY {family} {peer[0]} {local[0]} {peer[1]} {local[1]}\r\n".encode("ascii")


class Client(asyncio.Protocol):
    """One client connection: express requests served, the rest handed over."""

    def __init__(self, front: Front) -> None:
        self.front = front
        self.transport: Any = None
        self.sink: _Sink | None = None
        self.buf = b""
        self.state = _IDLE
        self.since = 0.0  # when it began waiting for a head
        self.eof = False
        self.paused = False
        self.exchange: Exchange | None = None
        self.backend: Backend | None = None
        self.peer: Any = None
        self.local: Any = None
        self.remote = ""
        self.introspected = False  # the head at the buffer's start had its token asked
        self.used = False  # has had an answer (an idle keep-alive connection, when idle)
        self.lingering = -1  # bytes still dropped after the gateway behind closed; -1: no

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.sink = _Sink(transport)
        transport.set_write_buffer_limits(high=_WRITE_HIGH)
        self.peer = transport.get_extra_info("peername")
        self.local = transport.get_extra_info("sockname")
        self.remote = str(self.peer[0]) if isinstance(self.peer, tuple) else ""
        self.since = self.front.loop.time()
        self.front.clients.add(self)

    def data_received(self, data: bytes) -> None:
        if self.lingering >= 0:
            self.lingering -= len(data)
            if self.lingering < 0:
                self.transport.close()
            return
        backend = self.backend
        if backend is not None:
            backend.transport.write(data)
            return
        self.buf += data
        if self.state == _IDLE and not self.paused:
            self.next()
        elif len(self.buf) > MAX_HEAD:  # requests piling up behind a slow answer or reader
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        if self.lingering >= 0:
            return False
        if self.backend is not None:
            if self.backend.transport.can_write_eof():
                self.backend.transport.write_eof()
            return True
        if self.state == _IDLE and not self.buf:
            return False  # closes
        return True  # the answer in progress (or the handover) first

    def next(self) -> None:
        """Serve the head at the start of the buffer, or hand the connection over."""
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD or buf.startswith(b"\r\n") or (self.eof and buf):
                self.handover()
            elif self.eof:
                self.transport.close()
            return
        front = self.front
        express = front.express
        split = split_head(buf[:end], MAX_LINE, MAX_FIELDS, MAX_FIELD)
        plan = None
        if split is not None and express is not None:
            uncached: list[str] = []
            plan = express.plan(*split, self.remote, uncached)
            if uncached and not self.introspected and front.introspect(uncached[0], self):
                self.state = _BUSY  # planned again once the answer is cached
                return
        self.introspected = False
        if plan is None:
            self.handover()
            return
        self.buf = buf[end + 4 :]
        self.state = _BUSY
        if len(self.buf) > MAX_HEAD:
            self.transport.pause_reading()
        self.exchange = exchange = Exchange(front, express, plan, self)
        exchange.next()

    def introspected_now(self) -> None:
        """The token's introspection ended (cached, refused or failed): plan again."""
        if self.transport.is_closing() or self.state != _BUSY or self.exchange is not None:
            return
        self.introspected = True
        self.state = _IDLE
        self.next()

    def done(self, close: bool) -> None:
        """The answer is written (to the transport's buffer)."""
        self.exchange = None
        if close or self.front.stopping or (self.eof and not self.buf):
            self.state = _HANDED  # nothing more is read
            self.transport.close()
            return
        self.state = _IDLE
        self.used = True
        self.since = self.front.loop.time()
        if self.paused:  # answers pile up unread: the next request waits for room
            self.transport.pause_reading()
            return
        self.read_more()
        if self.buf:
            self.next()

    def read_more(self) -> None:
        """Read on, unless a head's worth of requests is waiting already (a client
        pipelining faster than it is answered is read only as fast as it is answered)."""
        if len(self.buf) <= MAX_HEAD:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def backend_gone(self) -> None:
        """The gateway behind closed its side: the client's connection ends too, after
        its answer, with what the client is still sending (the rest of a refused body)
        read and dropped for a moment, as gunicorn does: a close on unread bytes resets
        the connection, and the client may then lose the answer."""
        self.backend = None
        transport = self.transport
        if transport.is_closing():
            return
        self.lingering = LINGER_BYTES
        if transport.can_write_eof():
            transport.write_eof()  # after what is buffered
        transport.resume_reading()
        self.front.loop.call_later(LINGER_SECONDS, transport.close)

    def abort(self) -> None:
        self.exchange = None
        self.transport.abort()

    def handover(self) -> None:
        self.state = _HANDED
        self.transport.pause_reading()
        self.front.loop.create_task(self._to_backend())

    async def _to_backend(self) -> None:
        front = self.front
        try:
            _, backend = await front.loop.create_unix_connection(
                lambda: Backend(self), front.backend_path
            )
        except OSError as exc:
            log.warning("the gateway behind the front is unreachable: %s", exc)
            self.transport.abort()
            return
        if self.transport.is_closing():
            backend.transport.close()
            return
        self.backend = backend
        backend.transport.write(proxy_line(self.peer, self.local) + self.buf)
        self.buf = b""
        if self.eof:
            if backend.transport.can_write_eof():
                backend.transport.write_eof()
        else:
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        self.paused = True
        if self.exchange is not None:
            self.exchange.pause(True)
        if self.backend is not None:
            self.backend.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        if self.exchange is not None:
            self.exchange.pause(False)
        if self.backend is not None:
            self.backend.transport.resume_reading()
        elif self.state == _IDLE:
            self.since = self.front.loop.time()
            self.read_more()
            if self.buf:
                self.next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.front.clients.discard(self)
        if self.exchange is not None:
            self.exchange.cancel()
            self.exchange = None
        if self.backend is not None:
            self.backend.transport.close()


class Backend(asyncio.Protocol):
    """The gateway's side of a handed-over connection: spliced to the client."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.transport: Any = None
        self.spare: socket.socket | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        # A second handle on the socket: when a write fails (gunicorn closed on unread
        # bytes of a refused body), the transport closes without reading what gunicorn
        # wrote before closing (its 413): read from this one then.
        try:
            fileno = transport.get_extra_info("socket").fileno()
            self.spare = socket.socket(fileno=os.dup(fileno))
        except (AttributeError, OSError):
            self.spare = None

    def data_received(self, data: bytes) -> None:
        self.client.transport.write(data)

    def eof_received(self) -> bool:
        return False  # the gateway closed: so does the client's connection

    def pause_writing(self) -> None:
        self.client.transport.pause_reading()

    def resume_writing(self) -> None:
        self.client.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        spare, self.spare = self.spare, None
        if spare is not None:
            if exc is not None:
                spare.setblocking(False)
                try:
                    while data := spare.recv(65536):
                        self.client.transport.write(data)
                except OSError:
                    pass  # all read (EAGAIN), or gone too
            spare.close()
        self.client.backend_gone()


class Front:
    """The listening side, the gateway's objects (for the express lane) and pools."""

    def __init__(self, loop: Any, backend_path: str, express: Any, settings: Any) -> None:
        self.loop = loop
        self.backend_path = backend_path
        self.express = express
        self.timeout = settings.timeout if settings else 60.0
        self.connect_timeout = settings.connect_timeout if settings else 5.0
        self.pools = Pools(settings.pool_size if settings else 64, loop.time)
        self.clients: set[Client] = set()
        self.stopping = False
        self._introspecting: dict[str, list[Client]] = {}
        # A few at once: one slow answer of the auth service must not hold the others.
        self._thread = ThreadPoolExecutor(INTROSPECT_THREADS, thread_name_prefix="introspect")

    def introspect(self, token: str, client: Client) -> bool:
        """Ask for the token's introspection (the gateway's ``Introspector``, in a
        thread; once for all the requests waiting for it); ``client`` planned again
        when it ends. False: too many tokens under way (the request is handed over)."""
        waiting = self._introspecting.get(token)
        if waiting is not None:
            waiting.append(client)
            return True
        if len(self._introspecting) >= INTROSPECTIONS_MAX:
            return False
        self._introspecting[token] = [client]
        resolve = self.express.gateway.introspector.resolve
        future = self.loop.run_in_executor(self._thread, resolve, token)
        future.add_done_callback(lambda done: self._introspected(token, done))
        return True

    def _introspected(self, token: str, done: Any) -> None:
        if not done.cancelled():
            done.exception()  # taken: a failure is the gateway's behind to answer (its 503)
        for client in self._introspecting.pop(token, ()):
            client.introspected_now()

    def sweep(self) -> None:
        """Once a second: a connection waiting for a head over the keep-alive time is
        closed (nothing read) or handed over (a partial head: gunicorn's to refuse)."""
        now = self.loop.time()
        for client in list(self.clients):
            if client.state == _IDLE and now - client.since > KEEPALIVE:
                if client.buf:
                    client.handover()
                else:
                    client.state = _HANDED
                    client.transport.close()
        if not self.stopping:
            self.loop.call_later(1.0, self.sweep)

    async def drain(self) -> None:
        """Stop: idle keep-alive connections closed, busy ones given ``GRACE`` seconds; a
        connection accepted just before the listener closed, its request not read yet, is
        waited for (``FIRST_WAIT``) and served (then closed), not closed unanswered."""
        self.stopping = True
        deadline = self.loop.time() + GRACE
        while self.loop.time() < deadline:
            now = self.loop.time()
            for client in list(self.clients):
                idle = client.state == _IDLE and not client.buf
                if idle and (client.used or now - client.since >= FIRST_WAIT):
                    client.transport.close()
            if not self.clients:
                break
            await asyncio.sleep(0.05)
        for client in list(self.clients):
            client.transport.abort()
        self.pools.close()
        self._thread.shutdown(wait=False)
