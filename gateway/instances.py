"""One service instance as one gateway worker sees it: state, pool, counters."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.instances import UP

from .httpclient import Connection

# A pooled connection idle longer than this is closed instead of reused. Services close
# idle keep-alive connections after 5 s (deploy/gunicorn.py ``keepalive``); reusing one
# at that moment would lose a non-idempotent request, which is never sent twice.
REUSE_IDLE = 2.0


class Instance:
    """One base URL, its state and its idle keep-alive connections (one worker's pool).

    ``state`` comes from discovery (shared/instances.py): ``up`` instances get
    requests; a ``draining`` one gets nothing new and its connections are closed as
    they come back; a ``down`` one is tried only when no instance is up. The counters
    are this worker's view of the instance (the seam for per-instance metrics).
    """

    def __init__(self, url: str, connect_timeout: float, pool_size: int, state: str = UP) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"unsupported service URL {url!r} (http://host:port expected)")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 80
        self.state = state
        self.retired = False  # no longer in the instance set: close, never pool
        self.sent = 0  # requests written to it
        self.failed = 0  # connections refused, reset or closed without an answer
        self.in_flight = 0  # requests sent whose response is not finished yet
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._idle: list[Connection] = []

    def acquire(self, fresh: bool = False) -> Connection:
        now = time.monotonic()
        while not fresh:
            try:  # (the front's introspection threads share the pool: no check-then-pop)
                conn = self._idle.pop()
            except IndexError:
                break
            if now - conn.idle_since < REUSE_IDLE and conn.reusable():
                return conn
            conn.close()
        return Connection(self.host, self.port, self._connect_timeout)

    def release(self, conn: Connection) -> None:
        if (
            conn.sock is not None
            and self.state == UP
            and not self.retired
            and len(self._idle) < self._pool_size
        ):
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


@dataclass(frozen=True)
class InstanceStatus:
    """One instance as this gateway worker sees it (healthcheck, metrics)."""

    url: str
    state: str
    sent: int
    failed: int
    in_flight: int


@dataclass(frozen=True)
class InstanceHealth:
    url: str
    state: str
    error: str | None  # None: answered 200
    seconds: float


def probe(instance: Instance, timeout: float) -> str | None:
    conn = Connection(instance.host, instance.port, timeout)
    try:
        resp = conn.request("GET", "/internal/health", {}, None, chunked=False, timeout=timeout)
        resp.read()
        if resp.status != 200:
            return f"answered {resp.status}"
        return None
    except (OSError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    finally:
        conn.close()
