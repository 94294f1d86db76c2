"""The client's request body as the gateway forwards it: buffered or streamed.

A body up to BUFFER_LIMIT is read at once, so it can be sent again to another instance
(gateway/upstream.py); a larger or chunked one is streamed from the client to the
instance, and once its first bytes are read it cannot be sent again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

CHUNK = 64 * 1024
# Request bodies up to this size are read at once (they can be re-sent to another
# instance); larger ones and chunked ones are streamed.
BUFFER_LIMIT = 256 * 1024


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
