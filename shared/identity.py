"""The caller's identity, signed by the gateway and verified by every service.

Wire form of the header ``X-Tsubame-Identity``::

    <base64url(JSON)>.<hex HMAC-SHA256 of the base64url part>

The JSON carries an issue time (``iat``); services refuse identities older than
``max_age`` seconds, so a captured header is only briefly useful. The gateway
strips any identity header a client sends before adding its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

IDENTITY_HEADER = "X-Tsubame-Identity"

# Owner types of tsuru events; ``internal`` is used between our own processes.
KINDS = ("user", "token", "app", "internal")


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


@dataclass(frozen=True)
class Identity:
    kind: str  # "user" | "token" | "app" | "internal"
    name: str  # email, team token id, app name, or process name
    email: str = ""  # the user's email when kind == "user"
    token_kind: str = ""  # "session" | "apikey" | "team" | "app" | ""
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # sha256 hex of the raw token, so the auth service can act on "this token" (logout).
    token_hash: str = ""

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


def _mac(payload: bytes, secret: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def sign(identity: Identity, secret: bytes, *, now: float | None = None) -> str:
    body = dict(identity.to_json(), iat=time.time() if now is None else now)
    payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload.decode()}.{_mac(payload, secret)}"


def verify(
    header: str, secret: bytes, *, max_age: float = 300.0, now: float | None = None
) -> Identity:
    try:
        payload, mac = header.rsplit(".", 1)
    except ValueError as exc:
        raise InvalidIdentity("malformed identity header") from exc
    if not hmac.compare_digest(_mac(payload.encode(), secret), mac):
        raise InvalidIdentity("bad identity signature")
    try:
        body = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError as exc:
        raise InvalidIdentity("undecodable identity") from exc
    issued = float(body.get("iat", 0))
    current = time.time() if now is None else now
    if issued > current + 30 or current - issued > max_age:
        raise InvalidIdentity("identity expired")
    return Identity.from_json(body)


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
