"""Forwarding to the instances of one service: pooled, round robin, streamed.

A request goes to the next instance in turn. An instance that refuses the
connection is skipped and the next one tried; so is a pooled connection the
instance closed meanwhile, as long as no byte of a streamed request body has
been read from the client yet (small bodies are buffered and can always be
sent again). The response is handed back as soon as its headers arrive; its
body is read chunk by chunk as the upstream writes it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from typing import IO

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util import Timeout

log = logging.getLogger("tsubame.gateway")

CHUNK = 64 * 1024
# Request bodies up to this size are read at once (they can be re-sent to another
# instance); larger ones and chunked ones are streamed.
BUFFER_LIMIT = 256 * 1024


class UpstreamError(Exception):
    def __init__(self, ctx: str) -> None:
        super().__init__(ctx)
        self.ctx = ctx


class ServiceUnavailable(UpstreamError):
    """No instance of the service could be reached."""


class UpstreamTimeout(UpstreamError):
    """The service did not answer (headers) in time."""


class RequestBody:
    """The client's request body, either buffered bytes or a one-shot stream."""

    def __init__(
        self, data: bytes | None = None, stream: IO[bytes] | None = None, length: int | None = None
    ) -> None:
        self.data = data
        self._stream = stream
        self.length = length  # None: unknown length, sent chunked
        self.started = False

    @classmethod
    def empty(cls) -> RequestBody:
        return cls(None)

    @classmethod
    def from_wsgi(cls, stream: IO[bytes], content_length: str | None, chunked: bool) -> RequestBody:
        if content_length:
            length = int(content_length)
            if length <= 0:
                return cls(b"" if length == 0 else None)
            if length <= BUFFER_LIMIT:
                return cls(_read_exactly(stream, length))
            return cls(stream=stream, length=length)
        if chunked:
            return cls(stream=stream, length=None)
        return cls(None)

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
        while remaining is None or remaining > 0:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            chunk = stream.read(want)
            self.started = True
            if not chunk:
                return
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
        self._timeout = Timeout(connect=connect_timeout, read=timeout)
        self._pools = [
            urllib3.connection_from_url(
                url, maxsize=pool_size, block=False, retries=False, timeout=self._timeout
            )
            for url in self.urls
        ]
        self._turn = itertools.count()

    def send(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: RequestBody,
    ) -> urllib3.BaseHTTPResponse:
        """Send the request to one instance; the response's body is not read yet."""
        n = len(self._pools)
        if n == 0:
            raise ServiceUnavailable(self.ctx)
        first = next(self._turn)
        if body.length is not None and body._stream is not None:
            headers["Content-Length"] = str(body.length)
        # Every instance once, plus one more try for a pooled connection found closed.
        for attempt in range(n + 1):
            pool = self._pools[(first + attempt) % n]
            try:
                resp = pool.urlopen(
                    method,
                    target,
                    body=body.payload(),
                    headers=headers,
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                    decode_content=False,
                    release_conn=False,
                    chunked=body.chunked,
                )
            except (NewConnectionError, ConnectTimeoutError) as exc:
                log.warning("%s instance %s unreachable: %s", self.ctx, pool_url(pool), exc)
                if not body.replayable:
                    break
                continue
            except ReadTimeoutError as exc:
                raise UpstreamTimeout(self.ctx) from exc
            except (HTTPError, OSError) as exc:
                log.warning("%s instance %s failed: %r", self.ctx, pool_url(pool), exc)
                if not body.replayable:
                    break
                continue
            _no_timeout_for_body(resp)
            return resp
        raise ServiceUnavailable(self.ctx)

    def close(self) -> None:
        for pool in self._pools:
            pool.close()


def pool_url(pool: urllib3.HTTPConnectionPool) -> str:
    return f"{pool.scheme}://{pool.host}:{pool.port}"


def _no_timeout_for_body(resp: urllib3.BaseHTTPResponse) -> None:
    # The timeout bounds the wait for the headers; a followed log or a long deploy
    # may then stay silent for a long time (keep-alives come every 15-30 s at best).
    conn = getattr(resp, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        sock.settimeout(None)


class Relay:
    """WSGI iterable over an upstream body, chunk by chunk as it arrives."""

    def __init__(self, resp: urllib3.BaseHTTPResponse) -> None:
        self._resp = resp
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        read1 = self._resp.read1
        while True:
            chunk = read1(CHUNK, decode_content=False)
            if not chunk:
                self._done = True
                return
            yield chunk

    def close(self) -> None:
        resp = self._resp
        if not self._done:
            # The client left (or we failed) mid-body: the connection is in an unknown
            # state, so it is closed rather than returned to the pool.
            conn = getattr(resp, "connection", None)
            if conn is not None:
                conn.close()
        resp.release_conn()
