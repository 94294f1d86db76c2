"""Forwarding to the instances of one service: pooled, round robin, streamed.

A request goes to the next instance that is up, in turn (the set is kept current by
gateway/discovery.py). An instance that refuses the connection is skipped and the
next one tried, as is one that closed before taking the whole request. One that
dies after the request was written (killed while handling it) may have acted on it:
the request then goes to another instance only if it is idempotent, so a
non-idempotent request is never sent twice. Either way no byte of a streamed request
body may have been read from the client yet (small bodies are buffered and can
always be sent again). An instance that dies while writing its answer (the head
arrived, the body broke off) is one that died before answering: the client has not
received a byte yet, since the response is handed back only once a small body is
read whole (WHOLE_ANSWER) or a larger one's first part is in (the gateway's head
leaves with the first body bytes anyway). The rest of the body is then read chunk by
chunk as the upstream writes it, with no timeout; an instance dying then can only
cut the answer short.

The client is gateway.httpclient with a small per-instance pool of keep-alive
connections (see there why not urllib3 or http.client).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from shared.instances import DOWN, UP

from .httpclient import Connection, NoAnswer, NotSent, Response
from .instances import Instance, InstanceHealth, InstanceStatus, probe
from .requestbody import CHUNK, BodyTooLarge, RequestBody

log = logging.getLogger("tsubame.gateway")

# Answers of known length up to this size are read whole before send() returns.
WHOLE_ANSWER = 64 * 1024
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NO_BODY = RequestBody(None)  # send_head()'s: nothing to read, always sent again


class UpstreamError(Exception):
    def __init__(self, ctx: str) -> None:
        super().__init__(ctx)
        self.ctx = ctx


class ServiceUnavailable(UpstreamError):
    """No instance of the service could be reached."""


class UpstreamTimeout(UpstreamError):
    """The service did not answer (headers) in time."""


class UpstreamResponse:
    """Status and headers of an upstream answer; the body is read on demand."""

    __slots__ = (
        "_instance",
        "_resp",
        "_released",
        "_early",
        "complete",
        "status",
        "reason",
        "headers",
        "length",
        "connection_header",
    )

    def __init__(self, instance: Instance, resp: Response, early: bytes = b"") -> None:
        self._instance = instance
        self._resp = resp
        self._released = False
        self._early = early  # the body's first bytes, read by send()
        self.complete = resp.done  # the whole body is in ``early``
        self.status = resp.status
        self.reason = resp.reason
        self.headers = resp.headers
        self.length = resp.length
        self.connection_header = resp.connection_header

    def header(self, name: str) -> str | None:
        return self._resp.header(name)

    def read(self) -> bytes:
        early, self._early = self._early, b""
        return early if self.complete else early + self._resp.read()

    def read1(self, amt: int = CHUNK) -> bytes:
        early = self._early
        if early:
            self._early = b""
            return early
        return self._resp.read1(amt)

    @property
    def instance_url(self) -> str:
        return self._instance.url

    def detach(self) -> tuple[Connection, bytes]:
        """Take the connection out of HTTP (a 101 upgrade): it and the bytes already read."""
        self._done()
        return self._resp.conn, self._resp.conn.take_buffer()

    def release(self) -> None:
        """Give the connection back if the body was read to its end, else close it."""
        if self._released:
            return
        self._done()
        if self._resp.reusable:
            self._instance.release(self._resp.conn)
        else:
            self._resp.conn.close()

    def _done(self) -> None:
        if not self._released:
            self._released = True
            self._instance.in_flight -= 1


class Upstream:
    """The instances of one service, as seen by one worker.

    Starts with ``urls`` (``TSUBAME_<CTX>_URLS``), all up; gateway/discovery.py keeps
    the set current with ``update()``. Requests go round robin over the instances
    that are up; one all of them failed (where it may go on: see ``send()``) then
    tries each instance marked down, which may be back before the registry says so.
    """

    def __init__(
        self,
        ctx: str,
        urls: Sequence[str],
        *,
        timeout: float,
        connect_timeout: float,
        pool_size: int = 64,
    ) -> None:
        self.ctx = ctx
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._turn = itertools.count()
        self._all: dict[str, Instance] = {}
        # Swapped whole by update(), so a request sees one consistent set.
        self._up: tuple[Instance, ...] = ()
        self._others: tuple[Instance, ...] = ()
        self.update([(url, UP) for url in urls])

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(self._all)

    @property
    def instances(self) -> list[Instance]:
        return list(self._all.values())

    def update(self, entries: Iterable[tuple[str, str]]) -> None:
        """Make the instance set ``[(url, state), ...]``; pools of kept URLs survive."""
        wanted = dict(entries)
        known = self._all
        fresh: dict[str, Instance] = {}
        for url, state in wanted.items():
            instance = known.get(url)
            if instance is None:
                instance = Instance(url, self._connect_timeout, self._pool_size, state)
            elif instance.state != state:
                instance.state = state
                if state != UP:
                    instance.close()  # idle connections; busy ones close on release
            fresh[url] = instance
        for url, instance in known.items():
            if url not in fresh:
                instance.retired = True
                instance.close()
        self._all = fresh
        self._up = tuple(i for i in fresh.values() if i.state == UP)
        self._others = tuple(i for i in fresh.values() if i.state == DOWN)

    def send(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: RequestBody,
        *,
        fresh: bool = False,
        idempotent: bool | None = None,
    ) -> UpstreamResponse:
        """Send the request to one instance; the response's body is not read yet.

        ``fresh``: on a new connection (an upgrade request, whose connection is then
        taken over and never pooled). ``idempotent``: whether the request may be sent
        again after an instance failed while handling it (default: by method).
        """
        if idempotent is None:
            idempotent = method in IDEMPOTENT
        if body.streamed and body.length is not None:
            headers["Content-Length"] = str(body.length)
        timeout = self._timeout

        def write(conn: Connection) -> Response:
            return conn.request(
                method, target, headers, body.payload(), chunked=body.chunked, timeout=timeout
            )

        return self._exchange(write, idempotent, body, fresh)

    def send_head(self, method: str, head: bytes) -> UpstreamResponse:
        """``send()`` of a request with no body whose head is written already (the
        request line and every header, Host included, and the blank line)."""

        def write(conn: Connection) -> Response:
            return conn.exchange(method, head, timeout=self._timeout)

        return self._exchange(write, method in IDEMPOTENT, _NO_BODY, False)

    def candidates(self) -> list[Instance]:
        """The instances one request tries, in order: every instance that is up once,
        from the next in turn, plus one more try for a pooled connection found closed;
        then each one marked down, once. When none is up, the ones marked down (the
        launcher is restarting them: one may be back before the registry says so)."""
        instances = self._up or self._others
        n = len(instances)
        first = next(self._turn)
        order = [instances[(first + i) % n] for i in range(n + 1)] if n else []
        if self._up:
            order += self._others
        return order

    def _exchange(
        self,
        write: Callable[[Connection], Response],
        idempotent: bool,
        body: RequestBody,
        fresh: bool,
    ) -> UpstreamResponse:
        """``write`` on one instance's connection after another, as ``send()`` says.
        Whether ``body`` can be sent again is asked after each failure: a streamed one
        cannot once its first bytes were read from the client."""
        for instance in self.candidates():
            conn = instance.acquire(fresh)
            if conn.sock is None:
                try:
                    conn.connect()
                except OSError as exc:
                    instance.failed += 1
                    log.warning("%s instance %s unreachable: %s", self.ctx, instance.url, exc)
                    continue  # nothing was read from the client yet
            instance.sent += 1
            instance.in_flight += 1
            try:
                resp = write(conn)
            except BodyTooLarge:
                conn.close()  # the service got part of a body: this request is void
                raise
            except TimeoutError as exc:
                instance.in_flight -= 1
                conn.close()
                raise UpstreamTimeout(self.ctx) from exc
            except OSError as exc:
                instance.in_flight -= 1
                instance.failed += 1
                conn.close()
                log.warning("%s instance %s failed: %r", self.ctx, instance.url, exc)
                if body.replayable and _may_resend(exc, idempotent):
                    continue
                break
            # The timeout bounds the wait for the headers; a followed log or a long deploy
            # may then stay silent for a long time.
            conn.streaming()
            try:
                early = _early_part(resp)
            except OSError as exc:
                # Killed while writing its answer: it may have acted on the request.
                instance.in_flight -= 1
                instance.failed += 1
                conn.close()
                log.warning("%s instance %s broke off its answer: %r", self.ctx, instance.url, exc)
                if body.replayable and idempotent:
                    continue
                break
            return UpstreamResponse(instance, resp, early)
        raise ServiceUnavailable(self.ctx)

    def snapshot(self) -> list[InstanceStatus]:
        return [
            InstanceStatus(i.url, i.state, i.sent, i.failed, i.in_flight)
            for i in self._all.values()
        ]

    def health(self, timeout: float = 5.0) -> list[InstanceHealth]:
        """``GET /internal/health`` of every instance, in order."""
        found = []
        for instance in list(self._all.values()):
            started = time.perf_counter()
            error = probe(instance, timeout)
            found.append(
                InstanceHealth(instance.url, instance.state, error, time.perf_counter() - started)
            )
        return found

    def close(self) -> None:
        for instance in self._all.values():
            instance.close()


def _early_part(resp: Response) -> bytes:
    """A small body whole, else its first bytes (none of a 101: the tunnel's own)."""
    if resp.status == 101:
        return b""
    if resp.length is not None and resp.length <= WHOLE_ANSWER:
        return resp.read()
    return resp.read1(CHUNK)


def _may_resend(exc: OSError, idempotent: bool) -> bool:
    """Whether a request that failed with ``exc`` may go to another instance.

    A request that never reached the instance whole may always be resent. One the
    instance may have acted on (the connection died after it was written) is resent
    only if idempotent: a non-idempotent request is never sent twice.
    """
    if isinstance(exc, NotSent):
        return True
    if isinstance(exc, NoAnswer | ConnectionError):
        return idempotent
    return False


class Relay:
    """WSGI iterable over an upstream body, chunk by chunk as it arrives."""

    def __init__(self, resp: UpstreamResponse) -> None:
        self._resp = resp

    def __iter__(self) -> Iterator[bytes]:
        read1 = self._resp.read1
        relayed = 0
        while True:
            try:
                chunk = read1(CHUNK)
            except OSError as exc:  # the client's answer is cut short; its server closes
                log.warning(
                    "instance %s broke off an answer after %d bytes of its body: %r",
                    self._resp.instance_url, relayed, exc,
                )  # fmt: skip
                raise
            if not chunk:
                return
            relayed += len(chunk)
            yield chunk

    def close(self) -> None:
        # A client gone mid-body leaves the connection in an unknown state: release()
        # closes it rather than pooling it.
        self._resp.release()
