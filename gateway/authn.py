"""Token resolution at the gateway: introspection by the auth service, cached briefly.

docs/contracts.md "Token introspection": the auth service answers 200 with the
owner's identity, 401 with an empty body for an unknown token (the request goes
on anonymously), or 401 with a text body that the client must see. Anything
else (the auth service not built yet: 404/501) is also "anonymous": a token is
never valid unless the auth service said so.

The cache maps the token's hash to its identity and the identity's encoded
subject (shared/identity.py; each forwarded request then costs one HMAC). Entries
live ``auth_cache_seconds``, never past the credential's own expiry, and are
dropped early by bus messages (``auth.token.revoked`` drops one, any other
``auth.*`` message drops all). When an entry expires under load, the requests that
carry the token at that moment wait for one introspection instead of each making
its own (a burst of as many calls to the auth service as requests in flight).

An auth service that cannot answer (unreachable, 5xx: its database is down ...)
makes ``resolve`` raise ``AuthUnavailable``: the client gets 503, never a 401 that
would send it back to login.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from shared import requestid
from shared.bus import keys
from shared.errors import AUTH_UNAVAILABLE
from shared.identity import (
    IDENTITY_HEADER,
    Identity,
    InvalidIdentity,
    encode_subject,
    internal_identity,
    sign,
    token_hash,
)

from .requestbody import RequestBody
from .upstream import Upstream, UpstreamError

log = logging.getLogger("tsubame.gateway")

INTROSPECT_PATH = "/internal/introspect"
# Entries are dropped when looked up after expiry; past this many, expired ones are
# swept (and if all are live, the cache starts over) so memory stays bounded.
MAX_ENTRIES = 10_000
# Seconds a request waits for another's introspection of the same token before making
# its own (a stuck call ends with the forwarding timeout anyway).
INFLIGHT_WAIT = 5.0


@dataclass(frozen=True)
class Refusal:
    """The auth service refused the token with a message the client must see."""

    status: int
    message: str


class AuthUnavailable(Exception):
    """The auth service could not say whether the token is valid (down, 5xx, timeout).

    ``public``: what the client is told (503); the exception's text is for the log.
    """

    def __init__(self, detail: str, public: str = AUTH_UNAVAILABLE) -> None:
        super().__init__(detail)
        self.public = public


@dataclass
class _Entry:
    expires: float
    identity: Identity
    subject: str


class Introspector:
    def __init__(
        self,
        auth: Upstream,
        secret: bytes,
        *,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._auth = auth
        self._secret = secret
        self._ttl = cache_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[str, _Entry] = {}
        # Token hash -> set when the introspection under way for it has ended.
        self._inflight: dict[str, threading.Event] = {}

    # -- cache invalidation (bus) ---------------------------------------------------

    def forget(self, hashed: str) -> None:
        self._cache.pop(hashed, None)

    def forget_all(self) -> None:
        self._cache.clear()

    def on_message(self, routing_key: str, body: dict[str, object]) -> None:
        if routing_key == keys.TOKEN_REVOKED and isinstance(body.get("token_hash"), str):
            self.forget(str(body["token_hash"]))
        else:
            self.forget_all()

    # -- resolution -----------------------------------------------------------------

    def cached(self, raw_token: str) -> tuple[Identity, str] | None:
        """(identity, encoded subject) of a token whose introspection is cached and
        fresh; None otherwise (``resolve()`` then decides, asking if need be)."""
        entry = self._cache.get(token_hash(raw_token))
        if entry is not None and entry.expires > self._clock():
            return entry.identity, entry.subject
        return None

    def resolve(self, raw_token: str) -> tuple[Identity, str] | Refusal | None:
        """(identity, encoded subject) for a valid token, a Refusal, or None (anonymous).

        Raises AuthUnavailable when the auth service cannot answer.
        """
        hashed = token_hash(raw_token)
        now = self._clock()
        entry = self._cache.get(hashed)
        if entry is not None and entry.expires > now:
            return entry.identity, entry.subject
        if entry is not None:
            self._cache.pop(hashed, None)
        running = self._inflight.get(hashed)
        if running is not None:
            # Another request is introspecting this token: its answer, once cached.
            # (Not cached: a refusal, an anonymous token, a failure; then ask again.)
            running.wait(INFLIGHT_WAIT)
            entry = self._cache.get(hashed)
            if entry is not None and entry.expires > self._clock():
                return entry.identity, entry.subject
            return self._resolve_now(raw_token, hashed)
        done = self._inflight[hashed] = threading.Event()
        try:
            return self._resolve_now(raw_token, hashed)
        finally:
            if self._inflight.get(hashed) is done:
                del self._inflight[hashed]
            done.set()

    def _resolve_now(self, raw_token: str, hashed: str) -> tuple[Identity, str] | Refusal | None:
        now = self._clock()
        answer = self._introspect(raw_token, hashed)
        if not isinstance(answer, tuple):
            return answer
        identity, valid_for = answer
        subject = encode_subject(identity)
        ttl = self._ttl if valid_for is None else min(self._ttl, valid_for)
        if ttl > 0:
            if len(self._cache) >= MAX_ENTRIES:
                self._sweep(now)
            self._cache[hashed] = _Entry(now + ttl, identity, subject)
        return identity, subject

    def _sweep(self, now: float) -> None:
        live = {k: e for k, e in self._cache.items() if e.expires > now}
        self._cache = live if len(live) < MAX_ENTRIES else {}

    def _introspect(
        self, raw_token: str, hashed: str
    ) -> tuple[Identity, float | None] | Refusal | None:
        body = json.dumps({"token": raw_token}).encode()
        headers = {
            "Content-Type": "application/json",
            IDENTITY_HEADER: sign(
                internal_identity("gateway"), self._secret, method="POST", path=INTROSPECT_PATH
            ),
        }
        rid = requestid.current()
        if rid:  # the auth service logs the check under the request's id
            headers[requestid.HEADER] = rid
        try:
            # Introspection only reads: it may go to another auth instance if one dies.
            resp = self._auth.send(
                "POST", INTROSPECT_PATH, headers, RequestBody(body), idempotent=True
            )
        except UpstreamError as exc:
            raise AuthUnavailable(str(exc)) from exc
        try:
            data = resp.read()
        except OSError as exc:
            raise AuthUnavailable(repr(exc)) from exc
        finally:
            resp.release()
        if resp.status == 200:
            try:
                raw = json.loads(data)
                identity = Identity.from_json(raw)
                expires = raw.get("expires")
                valid_for = None if expires is None else float(expires) - self._wall_clock()
            except (ValueError, TypeError, KeyError, AttributeError, InvalidIdentity) as exc:
                log.error("auth introspection answered an unreadable identity: %r", exc)
                raise AuthUnavailable("unreadable introspection answer") from exc
            if valid_for is not None and valid_for <= 0:
                return None  # expired between the auth service's check and now
            return replace(identity, token_hash=hashed), valid_for
        if resp.status == 401:
            message = data.decode("utf-8", "replace").rstrip("\n")
            return Refusal(401, message) if message.strip() else None
        if resp.status in (404, 501):
            return None  # no auth service built behind this route: nobody is valid
        log.warning("auth introspection answered %s: %r", resp.status, data[:200])
        said = data.decode("utf-8", "replace").strip()
        if resp.status == 503 and said and len(said) <= 200 and "\n" not in said:
            # The auth service's own 503 names what is down (its database ...).
            raise AuthUnavailable(f"auth answered 503: {said}", said)
        raise AuthUnavailable(f"auth answered {resp.status}")


class CacheInvalidator:
    """Background consumer of ``auth.#``: one exclusive, auto-deleted queue per worker.

    The bus reconnects by itself; while it is down the cache TTL bounds staleness, and
    each reconnection empties the cache (messages sent meanwhile never reach us).
    ``wait_bound`` lets the gateway start serving only once its queue is bound: the
    first binding empties the cache too, so answers cached before it would be
    introspected again for nothing.
    """

    def __init__(self, bus_factory: Callable[[], object], introspector: Introspector) -> None:
        self._bus_factory = bus_factory
        self._introspector = introspector
        self._stop = threading.Event()
        self._bound = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-auth-cache", daemon=True)
        self._thread.start()

    def wait_bound(self, timeout: float) -> bool:
        """True once the queue has been bound; False after ``timeout`` (bus down: the
        gateway serves anyway, the TTL bounding staleness until the consumer binds)."""
        if self._bound.wait(timeout):
            return True
        log.warning("auth cache consumer not bound after %.1fs; serving without it", timeout)
        return False

    def _ready(self) -> None:
        self._introspector.forget_all()
        self._bound.set()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        queue = f"gateway.auth-cache.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        while not self._stop.is_set():
            try:
                bus = self._bus_factory()
                bus.consume(  # type: ignore[attr-defined]
                    queue,
                    [keys.AUTH_ANY],
                    self._on_message,
                    durable=False,
                    exclusive=True,
                    stop=self._stop,
                    # Revocations published while this queue was gone are lost:
                    # start every (re)connection from an empty cache.
                    on_ready=self._ready,
                )
            except Exception:  # the consumer must never die; the cache TTL covers the gap
                log.exception("auth cache consumer failed; restarting")
                self._stop.wait(2.0)

    def _on_message(self, routing_key: str, body: dict[str, object]) -> None:
        # The whole cache is also dropped on any message we cannot read.
        self._introspector.on_message(routing_key, body)
