"""The request id: one string that follows a request through every process.

The gateway takes the client's ``X-Request-Id`` (sanitised, bounded) or makes a new
one, answers it to the client, and forwards it to the service as the same header. A
service binds it for the request (``shared.http.app``), passes it on to the services
it calls (``shared.client``) and in the ``x-request-id`` header of every bus message it
publishes or command it sends (``shared.bus``); a worker binds it while it handles that
message. Every log line carries the bound id (``shared.logs``).

The id lives in a context variable: each thread and each gevent greenlet has its own,
so concurrent requests never see each other's id.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

HEADER = "X-Request-Id"
ENVIRON_KEY = "HTTP_X_REQUEST_ID"
# The AMQP message header (in the message properties' ``headers`` table).
BUS_HEADER = "x-request-id"
MAX_LENGTH = 128
# What a client's id may keep: letters, digits and a few separators. Anything else
# (spaces, quotes, control characters, non-ASCII) is dropped, so an id is safe in a
# header, a log line and a label.
_DROP = re.compile(r"[^A-Za-z0-9._:@/+=-]")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tsubame_request_id", default=None
)


class _Ids:
    """New ids: 16 random hex digits per process, then a counter (32 hex digits in
    all). Unique across processes and restarts, and far cheaper than a uuid4 per
    request (a request id is a label, not a secret)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


new = _Ids()
# A forked child (gunicorn's workers) must not repeat its parent's ids.
os.register_at_fork(after_in_child=new.reset)


def sanitize(value: str | bytes | None) -> str | None:
    """The client's id made safe (at most MAX_LENGTH allowed characters), or None
    when nothing usable is left."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    cleaned = _DROP.sub("", value[: MAX_LENGTH * 4])[:MAX_LENGTH]
    return cleaned or None


def accept(value: str | bytes | None) -> str:
    """The id of a request that came with ``value`` (sanitised, or a new one)."""
    return sanitize(value) or new()


def current() -> str | None:
    return _current.get()


def bind(value: str | None) -> contextvars.Token[str | None]:
    """Make ``value`` the current id of this thread or greenlet (until the next bind)."""
    return _current.set(value)


def reset(token: contextvars.Token[str | None]) -> None:
    _current.reset(token)


@contextmanager
def bound(value: str | None) -> Iterator[None]:
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


def carried(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` to run in another thread (a pool's) under the id bound here and now."""
    value = _current.get()

    def run(*args: Any, **kwargs: Any) -> T:
        token = _current.set(value)
        try:
            return fn(*args, **kwargs)
        finally:
            _current.reset(token)

    return run


def bus_headers() -> dict[str, Any] | None:
    """The AMQP headers carrying the current id (None when there is none)."""
    value = _current.get()
    return {BUS_HEADER: value} if value else None


def from_bus_headers(headers: Mapping[str, Any] | None) -> str | None:
    """The id a message carried (sanitised: the broker is shared, the sender may lie)."""
    if not headers:
        return None
    value = headers.get(BUS_HEADER)
    return sanitize(value) if isinstance(value, (str, bytes)) else None
