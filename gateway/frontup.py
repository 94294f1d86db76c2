"""The front's upstream side (gateway/front.py): one planned GET to a service or a unit.

The same rules as gateway/upstream.py's ``send_head()``, on asyncio: the instances in
``Upstream.candidates()`` order (round robin over those up, one more try, then those
marked down), idle keep-alive connections pooled per instance (at most the pool size,
none used after REUSE_IDLE), a connection refused skipped for the next instance, a
pooled one that closes before a byte of the answer replaced by a new one; a GET is
idempotent, so an instance that died after taking it, or while writing its
answer before the client got a byte of it, is one more reason to try the next. The
head must come within the forwarding timeout (504); no instance at all is a 502. An
answer of known length up to ``WHOLE_ANSWER`` is read whole and sent in one write
(``Express.whole()`` when its headers pass, else the general framing); any other is
relayed as it arrives, the upstream read paused while the client is slow to take it.
Answers are parsed by httptools (llhttp, the C parser of Node.js): one it refuses is
an instance failing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httptools  # type: ignore[import-not-found,unused-ignore]

from shared.instances import UP

from .fastresponse import Response
from .instances import REUSE_IDLE
from .responses import status_line
from .upstream import WHOLE_ANSWER, ServiceUnavailable, UpstreamTimeout

if TYPE_CHECKING:
    from .express import Express, Plan
    from .instances import Instance

log = logging.getLogger("tsubame.gateway")


class Pools:
    """Idle connections by instance, at most ``size`` each; one idle for REUSE_IDLE is
    not used again (the instance may be closing it: gateway/instances.py)."""

    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self.size = size
        self.clock = clock  # the loop's time()
        self.idle: dict[str, list[UpConn]] = {}

    def take(self, instance: Instance) -> UpConn | None:
        idle = self.idle.get(instance.url)
        if idle:
            now = self.clock()
            while idle:
                conn = idle.pop()
                if conn.usable and now - conn.idle_since < REUSE_IDLE:
                    return conn
                conn.close()
        return None

    def give(self, instance: Instance, conn: UpConn) -> None:
        if not conn.usable or instance.retired or instance.state != UP:
            conn.close()
            return
        idle = self.idle.setdefault(instance.url, [])
        if len(idle) >= self.size:
            conn.close()
        else:
            conn.idle_since = self.clock()
            idle.append(conn)

    def close(self) -> None:
        for idle in self.idle.values():
            for conn in idle:
                conn.close()
        self.idle.clear()


class UpConn(asyncio.Protocol):
    """One keep-alive connection to an instance; its answers go to its exchange."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.exchange: Exchange | None = None
        self.usable = False
        self.idle_since = 0.0
        self.parser = httptools.HttpResponseParser(self)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.usable = True

    def close(self) -> None:
        self.usable = False
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None:  # bytes nobody asked for: the connection is not HTTP any more
            self.close()
            return
        exchange.heard = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.close()
            exchange.broke(self, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        exchange = self.exchange
        if exchange is not None:
            exchange.broke(self, exc or ConnectionError("closed by the instance"))

    # httptools' callbacks, for the exchange in progress
    def on_status(self, reason: bytes) -> None:
        if self.exchange is not None:
            self.exchange.reason = reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.exchange is not None:
            self.exchange.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self.exchange is not None:
            self.exchange.head(self)

    def on_body(self, data: bytes) -> None:
        if self.exchange is not None:
            self.exchange.body(data)

    def on_message_complete(self) -> None:
        if self.exchange is not None:
            self.exchange.complete(self)


class _Answer:
    """What ``Express.whole()`` and ``answer_headers()`` read of a whole answer."""

    __slots__ = ("status", "reason", "headers", "connection_header", "complete", "_body")

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.connection_header = _connection(headers)
        self.complete = True
        self._body = body

    def read(self) -> bytes:
        return self._body

    def release(self) -> None:
        pass


def _connection(headers: list[tuple[str, str]]) -> str | None:
    found = [v for n, v in headers if n.lower() == "connection"]
    return ", ".join(found) if found else None


def _length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value)  # llhttp refused anything but one plain number
    return None


class Exchange:
    """One planned GET: its instances tried in turn, its answer written to the client."""

    def __init__(self, front: Any, express: Express, plan: Plan, client: Any) -> None:
        self.front = front
        self.express = express
        self.plan = plan
        self.client = client  # gateway/front.py's Client: transport, done(), abort()
        self.candidates = plan.upstream.candidates()
        self.tried = 0
        self.instance: Instance | None = None
        self.conn: UpConn | None = None
        self.timer: Any = None
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.status = 0
        self.chunks: list[bytes] = []
        self.streaming = False  # the answer is relayed as it comes, not read whole
        self.until_close = False  # ... and ends when its connection does
        self.resp: Response | None = None  # the client's answer, once relaying
        self.cancelled = False
        self.reused = False  # the connection in use came from the pool
        self.heard = False  # ... and has sent something of the answer

    # -- sending --------------------------------------------------------------------
    def next(self) -> None:
        front = self.front
        while self.tried < len(self.candidates):
            instance = self.candidates[self.tried]
            self.tried += 1
            self.instance = instance
            conn = front.pools.take(instance)
            if conn is not None:
                self.send(conn, True)
            else:
                front.loop.create_task(self.connect(instance))
            return
        self.fail(ServiceUnavailable(self.plan.upstream.ctx))

    async def connect(self, instance: Instance) -> None:
        front = self.front
        try:
            _, conn = await asyncio.wait_for(
                front.loop.create_connection(UpConn, instance.host, instance.port),
                front.connect_timeout,
            )
        except OSError as exc:  # TimeoutError included
            instance.failed += 1
            log.warning(
                "%s instance %s unreachable: %s", self.plan.upstream.ctx, instance.url, exc
            )  # fmt: skip
            if not self.cancelled:
                self.next()
            return
        if self.cancelled:
            front.pools.give(instance, conn)
            return
        self.send(conn)

    def send(self, conn: UpConn, reused: bool = False) -> None:
        instance = self.instance
        assert instance is not None
        self.conn = conn
        self.reused, self.heard = reused, False
        conn.exchange = self
        self.reason, self.headers, self.status, self.chunks = "", [], 0, []
        self.streaming = self.until_close = False
        instance.sent += 1
        instance.in_flight += 1
        conn.transport.write(self.plan.head)
        self.timer = self.front.loop.call_later(self.front.timeout, self.timed_out)

    # -- the answer -----------------------------------------------------------------
    def head(self, conn: UpConn) -> None:
        status = conn.parser.get_status_code()
        if status < 200:  # an interim answer: the real one follows
            self.headers = []
            return
        self.status = status
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        length = _length(self.headers)
        if status in (204, 304) or (length is not None and length <= WHOLE_ANSWER):
            return  # read whole: complete() answers
        # Relayed as it comes, from its first body bytes on (the head leaves with them):
        # an instance that dies before sending any has answered nothing yet.
        self.streaming = True
        self.until_close = length is None and not _chunked(self.headers)

    def body(self, data: bytes) -> None:
        if self.status < 200:
            return
        if self.streaming:
            resp = self.resp or self._relay()
            resp.write(data)
        else:
            self.chunks.append(data)

    def _relay(self) -> Response:
        """The client's answer to a relayed body: counted, its head by the general rules."""
        plan = self.plan
        self.express.gateway.metrics.count(plan.owner, self.status)
        answer = _Answer(self.status, self.reason, self.headers, b"")
        headers = self.express.headers(plan, answer)  # type: ignore[arg-type]
        resp = self._response()
        resp.start_response(status_line(self.status, self.reason), headers)
        self.resp = resp
        if self.client.paused and self.conn is not None:
            self.conn.transport.pause_reading()
        return resp

    def complete(self, conn: UpConn) -> None:
        if self.status < 200:
            return  # the interim answer's end
        self._settle(conn, conn.parser.should_keep_alive())
        if self.streaming:
            resp = self.resp or self._relay()
            resp.finish(None)
            self.client.done(resp.must_close)
            return
        plan, express = self.plan, self.express
        express.gateway.metrics.count(plan.owner, self.status)
        answer = _Answer(self.status, self.reason, self.headers, b"".join(self.chunks))
        resp = self._response()
        if not express.whole(plan, answer, resp):  # type: ignore[arg-type]
            resp.start_response(
                status_line(self.status, self.reason),
                express.headers(plan, answer),  # type: ignore[arg-type]
            )
            resp.finish(answer.read())
        self.client.done(resp.must_close)

    def _settle(self, conn: UpConn, keep: bool) -> None:
        """The exchange is over on ``conn``: pooled again if it may be, else closed."""
        conn.exchange = None
        self.conn = None
        instance = self.instance
        assert instance is not None
        instance.in_flight -= 1
        if keep:
            conn.transport.resume_reading()  # paused while the client was slow to read
            self.front.pools.give(instance, conn)
        else:
            conn.close()

    def _response(self) -> Response:
        return Response(self.client.sink, False, self.plan.close or self.front.stopping)

    # -- failures -------------------------------------------------------------------
    def broke(self, conn: UpConn, exc: BaseException) -> None:
        """The connection failed or closed before the end of the answer."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.streaming and self.until_close:
            self._settle(conn, False)  # an answer that ends with its connection
            resp = self.resp or self._relay()
            resp.finish(None)
            self.client.done(True)
            return
        conn.exchange = None
        self.conn = None
        instance = self.instance
        assert instance is not None
        instance.in_flight -= 1
        if self.reused and not self.heard and not self.cancelled:
            # A pooled connection the instance closed as the request went out: the same
            # instance again, on a new connection (no try used up, no failure counted).
            self.front.loop.create_task(self.connect(instance))
            return
        instance.failed += 1
        log.warning("%s instance %s failed: %r", self.plan.upstream.ctx, instance.url, exc)
        if self.resp is not None:
            self.client.abort()  # the client's answer is cut short
        elif not self.cancelled:
            self.next()  # a GET: nothing reached the client yet, the next instance may

    def timed_out(self) -> None:
        self.timer = None
        self._drop()
        self.fail(UpstreamTimeout(self.plan.upstream.ctx))

    def fail(self, exc: ServiceUnavailable | UpstreamTimeout) -> None:
        if self.cancelled:
            return
        resp = self._response()
        self.express.failed(self.plan, exc, resp)
        self.client.done(resp.must_close)

    def cancel(self) -> None:
        """The client is gone: the connection in use is closed (its state unknown)."""
        self.cancelled = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._drop()

    def _drop(self) -> None:
        """The connection in use, if any, closed mid-exchange (its state unknown)."""
        conn = self.conn
        if conn is not None:
            conn.exchange = None
            self.conn = None
            conn.close()
            assert self.instance is not None
            self.instance.in_flight -= 1

    def pause(self, paused: bool) -> None:
        """The client's write buffer is full (or drained): stop (resume) reading."""
        conn = self.conn
        if conn is not None and conn.transport is not None:
            if paused:
                conn.transport.pause_reading()
            else:
                conn.transport.resume_reading()


def _chunked(headers: list[tuple[str, str]]) -> bool:
    return any(n.lower() == "transfer-encoding" for n, _ in headers)
