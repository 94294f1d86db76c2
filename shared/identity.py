"""The caller's identity, signed by the gateway and verified by every service.

Wire form of the header ``X-Tsubame-Identity``::

    <subject>.<iat>.<mac>

* ``subject``: base64url of a compact JSON object naming the caller (kind, name,
  email, token kind, token hash) and ``gd``, the digest of its grants. The grants
  themselves travel only when they are short (``INLINE_GRANTS_MAX`` bytes of JSON);
  otherwise the receiving service resolves them by ``(kind, name, gd)`` through a
  bounded cache filled from the auth service (shared/http/grants.py), so the header
  stays a few hundred bytes whatever the caller's roles.
* ``iat``: issue time, Unix milliseconds.
* ``mac``: hex HMAC-SHA256 over ``subject.iat.METHOD path``: the header is good for
  one method and path only, and for ``max_age`` seconds (replay of a captured
  header is bounded to that request within seconds).

``path`` is the request path without its query. A ``str`` is the wire form and is
percent-decoded before signing; ``bytes`` are an already decoded path (a WSGI
server's ``PATH_INFO`` re-encoded as latin-1). Either way both ends sign the same
bytes whatever escaping a client or a library chose.

The gateway strips any identity header a client sends before adding its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

IDENTITY_HEADER = "X-Tsubame-Identity"

# Owner types of tsuru events; ``internal`` is used between our own processes.
KINDS = ("user", "token", "app", "internal")

# Seconds a signed header stays valid (TSUBAME_IDENTITY_MAX_AGE); it is signed per
# request, so this only has to cover the time between signing and the service
# reading the request.
DEFAULT_MAX_AGE = 15.0
# Clock difference tolerated for headers issued "in the future" (several machines).
_FUTURE_SKEW = 5.0
# Grants whose canonical JSON is at most this long travel inside the header.
INLINE_GRANTS_MAX = 192
DIGEST_LENGTH = 16


class InvalidIdentity(Exception):
    pass


@dataclass(frozen=True)
class Grant:
    """One effective permission: scheme (``""`` = root) in a context."""

    scheme: str
    ctx_type: str = "global"
    ctx_value: str = ""

    def to_json(self) -> list[str]:
        return [self.scheme, self.ctx_type, self.ctx_value]

    @classmethod
    def from_json(cls, raw: Any) -> Grant:
        scheme, ctx_type, ctx_value = raw
        return cls(str(scheme), str(ctx_type), str(ctx_value))


def _canonical_grants(grants: Iterable[Grant]) -> str:
    unique = sorted({(g.scheme, g.ctx_type, g.ctx_value) for g in grants})
    return json.dumps(unique, separators=(",", ":"), ensure_ascii=False)


def grants_digest(grants: Iterable[Grant]) -> str:
    """A short digest of a grant set (order and duplicates do not matter)."""
    canonical = _canonical_grants(grants).encode("utf-8", "surrogatepass")
    return hashlib.sha256(canonical).hexdigest()[:DIGEST_LENGTH]


@dataclass(frozen=True)
class Identity:
    kind: str  # "user" | "token" | "app" | "internal"
    name: str  # email, team token id, app name, or process name
    email: str = ""  # the user's email when kind == "user"
    token_kind: str = ""  # "session" | "apikey" | "team" | "app" | ""
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # sha256 hex of the raw token, so the auth service can act on "this token" (logout).
    token_hash: str = ""
    # Set only on an identity read from a header that did not carry its grants: their
    # digest, which the service resolves (shared/http/grants.py) before any view runs.
    deferred_grants: str = ""

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "email": self.email,
            "token_kind": self.token_kind,
            "grants": [g.to_json() for g in self.grants],
            "token_hash": self.token_hash,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Identity:
        kind = raw.get("kind")
        if kind not in KINDS:
            raise InvalidIdentity(f"unknown identity kind {kind!r}")
        return cls(
            kind=kind,
            name=str(raw.get("name", "")),
            email=str(raw.get("email", "")),
            token_kind=str(raw.get("token_kind", "")),
            grants=tuple(Grant.from_json(g) for g in raw.get("grants", ())),
            token_hash=str(raw.get("token_hash", "")),
        )


def internal_identity(name: str) -> Identity:
    """Identity of one of our own processes (gateway, workers) calling a service."""
    return Identity(kind="internal", name=name, grants=(Grant(""),))


# -- signing -------------------------------------------------------------------------


def encode_subject(identity: Identity) -> str:
    """The part of a header that does not change per request (cache it per identity)."""
    body: dict[str, Any] = {
        "k": identity.kind,
        "n": identity.name,
        "gd": grants_digest(identity.grants),
    }
    if identity.email:
        body["e"] = identity.email
    if identity.token_kind:
        body["tk"] = identity.token_kind
    if identity.token_hash:
        body["th"] = identity.token_hash
    inline = _canonical_grants(identity.grants)
    if len(inline.encode("utf-8", "surrogatepass")) <= INLINE_GRANTS_MAX:
        body["g"] = json.loads(inline)
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _path_bytes(path: str | bytes) -> bytes:
    if isinstance(path, bytes):
        return path
    return unquote_to_bytes(path.split("?", 1)[0])


def _mac(secret: bytes, subject: str, iat: str, method: str, path: str | bytes) -> str:
    message = f"{subject}.{iat}.{method.upper()} ".encode() + _path_bytes(path)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign_subject(
    subject: str, secret: bytes, *, method: str, path: str | bytes, now: float | None = None
) -> str:
    """A header for one request from a pre-encoded subject (one HMAC, nothing else)."""
    iat = str(round((time.time() if now is None else now) * 1000))
    return f"{subject}.{iat}.{_mac(secret, subject, iat, method, path)}"


def sign(
    identity: Identity,
    secret: bytes,
    *,
    method: str,
    path: str | bytes,
    now: float | None = None,
) -> str:
    """The ``X-Tsubame-Identity`` value for one request ``method path``.

    ``path``: the request path as sent (percent-encoded or not, a query is ignored)
    or, as bytes, already percent-decoded.
    """
    return sign_subject(encode_subject(identity), secret, method=method, path=path, now=now)


def verify(
    header: str,
    secret: bytes,
    *,
    method: str,
    path: str | bytes,
    max_age: float = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> Identity:
    """The identity of a header signed for this ``method path``; raises InvalidIdentity.

    When the header did not carry the grants, the identity has none and names their
    digest in ``deferred_grants``.
    """
    try:
        subject, iat, mac = header.split(".")
    except ValueError as exc:
        raise InvalidIdentity("malformed identity header") from exc
    if not hmac.compare_digest(_mac(secret, subject, iat, method, path), mac):
        raise InvalidIdentity("bad identity signature")
    try:
        issued = int(iat) / 1000
        body = json.loads(base64.urlsafe_b64decode(subject + "=" * (-len(subject) % 4)))
    except ValueError as exc:
        raise InvalidIdentity("undecodable identity") from exc
    current = time.time() if now is None else now
    if issued > current + _FUTURE_SKEW or current - issued > max_age:
        raise InvalidIdentity("identity expired")
    if not isinstance(body, dict) or body.get("k") not in KINDS:
        raise InvalidIdentity("unknown identity kind")
    inline = body.get("g")
    return Identity(
        kind=body["k"],
        name=str(body.get("n", "")),
        email=str(body.get("e", "")),
        token_kind=str(body.get("tk", "")),
        grants=tuple(Grant.from_json(g) for g in inline) if inline is not None else (),
        token_hash=str(body.get("th", "")),
        deferred_grants="" if inline is not None else str(body.get("gd", "")),
    )


class VerifiedHeaders:
    """``verify()`` for one secret, its answers remembered per (header, method, path).

    The gateway reuses one signed header for the same caller, method and path for up to
    a second (gateway/app.py), so a service sees the same header again and again: its
    signature and body are checked the first time, its age at every use (a header past
    ``max_age`` is refused as ``verify()`` refuses it). A header that fails is never
    remembered. Bounded: emptied when full.
    """

    def __init__(self, secret: bytes, max_entries: int = 4096) -> None:
        self._secret = secret
        self._max = max_entries
        self._known: dict[tuple[str, str, str | bytes], tuple[float, Identity]] = {}

    def __call__(
        self,
        header: str,
        *,
        method: str,
        path: str | bytes,
        max_age: float = DEFAULT_MAX_AGE,
        now: float | None = None,
    ) -> Identity:
        key = (header, method, path)
        current = time.time() if now is None else now
        known = self._known.get(key)
        if known is not None:
            issued, identity = known
            if issued > current + _FUTURE_SKEW or current - issued > max_age:
                raise InvalidIdentity("identity expired")
            return identity
        identity = verify(
            header, self._secret, method=method, path=path, max_age=max_age, now=current
        )
        issued = int(header.split(".")[1]) / 1000  # verify() read it already
        if len(self._known) >= self._max:
            self._known = {}
        self._known[key] = (issued, identity)
        return identity


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def parse_authorization(header: str | None) -> str | None:
    """The token inside an ``Authorization`` header, the way tsuru reads it.

    One word: the word is the token. Two words: the second (any first word).
    Three or more parts (double spaces, trailing space) or an empty token: none.
    """
    if not header:
        return None
    parts = header.split(" ")
    if len(parts) > 2:
        return None
    token = parts[-1]
    return token or None
