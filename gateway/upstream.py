"""Forwarding to the instances of one service: pooled, round robin, streamed.

A request goes to the next instance in turn. An instance that refuses the
connection is skipped and the next one tried; so is a pooled connection the
instance closed meanwhile, as long as no byte of a streamed request body has
been read from the client yet (small bodies are buffered and can always be
sent again). The response is handed back as soon as its headers arrive; its
body is then read chunk by chunk as the upstream writes it, with no timeout.

The client is gateway.httpclient with a small per-instance pool of keep-alive
connections (see there why not urllib3 or http.client).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from typing import IO
from urllib.parse import urlsplit

from .httpclient import ClosedBeforeAnswer, Connection, Response

log = logging.getLogger("tsubame.gateway")

CHUNK = 64 * 1024
# Request bodies up to this size are read at once (they can be re-sent to another
# instance); larger ones and chunked ones are streamed.
BUFFER_LIMIT = 256 * 1024
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class UpstreamError(Exception):
    def __init__(self, ctx: str) -> None:
        super().__init__(ctx)
        self.ctx = ctx


class ServiceUnavailable(UpstreamError):
    """No instance of the service could be reached."""


class UpstreamTimeout(UpstreamError):
    """The service did not answer (headers) in time."""


class BodyTooLarge(Exception):
    """A chunked request body went past its route's limit while being forwarded."""


class RequestBody:
    """The client's request body, either buffered bytes or a one-shot stream."""

    def __init__(
        self,
        data: bytes | None = None,
        stream: IO[bytes] | None = None,
        length: int | None = None,
        limit: int | None = None,
    ) -> None:
        self.data = data
        self._stream = stream
        self.length = length  # of a stream; None: unknown, sent chunked
        self.limit = limit  # of a chunked stream: BodyTooLarge past it
        self.started = False

    @classmethod
    def from_wsgi(
        cls,
        stream: IO[bytes],
        content_length: str | None,
        chunked: bool,
        *,
        limit: int | None = None,
    ) -> RequestBody:
        """A declared length is checked against ``limit`` by the caller beforehand."""
        if content_length:
            length = int(content_length)
            if length <= 0:
                return cls(b"" if length == 0 else None)
            if length <= BUFFER_LIMIT:
                return cls(_read_exactly(stream, length))
            return cls(stream=stream, length=length)
        if chunked:
            return cls(stream=stream, length=None, limit=limit)
        return cls(None)

    @property
    def streamed(self) -> bool:
        return self._stream is not None

    @property
    def replayable(self) -> bool:
        return self._stream is None or not self.started

    @property
    def chunked(self) -> bool:
        return self._stream is not None and self.length is None

    def payload(self) -> bytes | Iterator[bytes] | None:
        if self._stream is None:
            return self.data
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        stream = self._stream
        assert stream is not None
        remaining = self.length
        total = 0
        while remaining is None or remaining > 0:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            chunk = stream.read(want)
            self.started = True
            if not chunk:
                return
            total += len(chunk)
            if self.limit is not None and total > self.limit:
                raise BodyTooLarge()
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _read_exactly(stream: IO[bytes], length: int) -> bytes:
    parts = []
    while length > 0:
        chunk = stream.read(length)
        if not chunk:
            break
        parts.append(chunk)
        length -= len(chunk)
    return b"".join(parts)


class Instance:
    """One base URL and its idle keep-alive connections (one worker's pool)."""

    def __init__(self, url: str, connect_timeout: float, pool_size: int) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"unsupported service URL {url!r} (http://host:port expected)")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 80
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._idle: list[Connection] = []

    def acquire(self, fresh: bool = False) -> Connection:
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.reusable():
                return conn
            conn.close()
        return Connection(self.host, self.port, self._connect_timeout)

    def release(self, conn: Connection) -> None:
        if conn.sock is not None and len(self._idle) < self._pool_size:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


class UpstreamResponse:
    """Status and headers of an upstream answer; the body is read on demand."""

    def __init__(self, instance: Instance, resp: Response) -> None:
        self._instance = instance
        self._resp = resp
        self.status = resp.status
        self.reason = resp.reason
        self.headers = resp.headers
        self.length = resp.length
        self.connection_header = resp.connection_header
        self.header = resp.header
        self.read = resp.read
        self.read1 = resp.read1

    def detach(self) -> tuple[Connection, bytes]:
        """Take the connection out of HTTP (a 101 upgrade): it and the bytes already read."""
        return self._resp.conn, self._resp.conn.take_buffer()

    def release(self) -> None:
        """Give the connection back if the body was read to its end, else close it."""
        if self._resp.reusable:
            self._instance.release(self._resp.conn)
        else:
            self._resp.conn.close()


class Upstream:
    """The instances of one service (``TSUBAME_<CTX>_URLS``), as seen by one worker."""

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
        self.urls = tuple(urls)
        self.instances = [Instance(url, connect_timeout, pool_size) for url in self.urls]
        self._timeout = timeout
        self._turn = itertools.count()

    def send(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: RequestBody,
        *,
        fresh: bool = False,
    ) -> UpstreamResponse:
        """Send the request to one instance; the response's body is not read yet.

        ``fresh``: on a new connection (an upgrade request, whose connection is then
        taken over and never pooled).
        """
        n = len(self.instances)
        first = next(self._turn)
        if body.streamed and body.length is not None:
            headers["Content-Length"] = str(body.length)
        # Every instance once, plus one more try for a pooled connection found closed.
        for attempt in range(n + 1 if n else 0):
            instance = self.instances[(first + attempt) % n]
            conn = instance.acquire(fresh)
            if conn.sock is None:
                try:
                    conn.connect()
                except OSError as exc:
                    log.warning("%s instance %s unreachable: %s", self.ctx, instance.url, exc)
                    continue  # nothing was read from the client yet
            try:
                resp = conn.request(
                    method,
                    target,
                    headers,
                    body.payload(),
                    chunked=body.chunked,
                    timeout=self._timeout,
                )
            except BodyTooLarge:
                conn.close()  # the service got part of a body: this request is void
                raise
            except TimeoutError as exc:
                conn.close()
                raise UpstreamTimeout(self.ctx) from exc
            except OSError as exc:
                conn.close()
                log.warning("%s instance %s failed: %r", self.ctx, instance.url, exc)
                # Another instance gets the request only if this one surely did not act
                # on it: a pooled connection closed before answering, or a reset of an
                # idempotent request. A body already streamed from the client is gone.
                retry = isinstance(exc, ClosedBeforeAnswer) or (
                    isinstance(exc, ConnectionError) and method in IDEMPOTENT
                )
                if not (retry and body.replayable):
                    break
                continue
            # The timeout bounds the wait for the headers; a followed log or a long deploy
            # may then stay silent for a long time.
            if conn.sock is not None:
                conn.sock.settimeout(None)
            return UpstreamResponse(instance, resp)
        raise ServiceUnavailable(self.ctx)

    def health(self, timeout: float = 5.0) -> str | None:
        """None if every instance answers ``GET /internal/health`` with 200, else why not."""
        if not self.instances:
            return "no instance configured"
        errors = []
        for instance in self.instances:
            conn = Connection(instance.host, instance.port, timeout)
            try:
                resp = conn.request(
                    "GET", "/internal/health", {}, None, chunked=False, timeout=timeout
                )
                resp.read()
                if resp.status != 200:
                    errors.append(f"{instance.url} answered {resp.status}")
            except (OSError, ValueError) as exc:
                errors.append(f"{instance.url}: {exc}")
            finally:
                conn.close()
        return "; ".join(errors) or None

    def close(self) -> None:
        for instance in self.instances:
            instance.close()


class Relay:
    """WSGI iterable over an upstream body, chunk by chunk as it arrives."""

    def __init__(self, resp: UpstreamResponse) -> None:
        self._resp = resp

    def __iter__(self) -> Iterator[bytes]:
        read1 = self._resp.read1
        while True:
            chunk = read1(CHUNK)
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        # A client gone mid-body leaves the connection in an unknown state: release()
        # closes it rather than pooling it.
        self._resp.release()
