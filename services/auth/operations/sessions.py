"""Login, logout and token introspection (auth.md §1.3-§1.5, §3.2, §3.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

import bcrypt

from services.auth.domain import errors, rules
from services.auth.domain.grants import expand
from services.auth.domain.models import ZERO_TIME, Session, TeamToken
from services.auth.domain.secrets import new_token, token_hash
from services.auth.operations.access import grants_of_user
from services.auth.operations.apps import app_grants, app_identity
from services.auth.operations.deps import Deps
from shared.bus import keys
from shared.identity import Grant, Identity


class UnknownToken(Exception):
    """The token resolves to nothing: the gateway treats the caller as anonymous."""


def hash_password(deps: Deps, password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(deps.config.hash_cost)).decode()


def password_matches(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


def login(deps: Deps, email: str, password: str | None) -> str:
    """A new session token for ``email`` (checks in tsuru's order)."""
    if password is None:
        raise errors.MissingLoginPassword()
    rules.validate_email(email)
    user = deps.stores.users.get(email)
    if user is None:
        raise errors.UserNotFound()
    if not rules.password_length_ok(password):
        raise errors.InvalidLoginPassword()
    if not password_matches(password, user.password):
        raise errors.WrongPassword()
    raw = new_token()
    now = deps.clock()
    expires = now + timedelta(days=deps.config.token_expire_days)
    deps.stores.sessions.add(Session(token_hash(raw), email, now, expires))
    return raw


def logout(deps: Deps, identity: Identity) -> None:
    """Deletes only the presented session token; it stops working at once."""
    if identity.token_kind != "session" or not deps.stores.sessions.delete(identity.token_hash):
        raise errors.NotSessionToken()
    deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": identity.token_hash})


def introspect(deps: Deps, raw: str) -> Identity:
    """The identity a raw token stands for: session, API key, team token, app token."""
    return introspect_until(deps, raw)[0]


def introspect_until(deps: Deps, raw: str) -> tuple[Identity, datetime | None]:
    """``introspect`` plus the credential's own expiry (None: it never expires), so a
    cache in front of this never keeps a credential alive past it."""
    if not raw:
        raise UnknownToken()
    h = token_hash(raw)
    now = deps.clock()
    session = deps.stores.sessions.get(h)
    if session is not None:
        user = deps.stores.users.get(session.email) if now < session.expires else None
        if user is None:
            raise UnknownToken()
        return _user_identity(deps, user, "session", h), session.expires
    user = deps.stores.users.by_apikey(h)
    if user is not None:
        return _user_identity(deps, user, "apikey", h), None
    token = deps.stores.tokens.by_hash(h)
    if token is None:
        app = app_identity(deps, h)
        if app is None:
            raise UnknownToken()
        return app, None
    if token.expired(now):
        raise errors.TeamTokenExpired()
    deps.stores.tokens.touch(token.token_id, now)
    identity = Identity(
        kind="token",
        name=token.token_id,
        token_kind="team",
        grants=_token_grants(deps, token),
        token_hash=h,
    )
    return identity, token.expires_at if token.expires_at != ZERO_TIME else None


def _token_grants(deps: Deps, token: TeamToken) -> tuple[Grant, ...]:
    roles = deps.stores.roles.get_many([r.name for r in token.roles])
    return tuple(expand(token.roles, roles))


def grants_of(deps: Deps, kind: str, name: str) -> tuple[Grant, ...] | None:
    """Current grants of a subject the gateway named (kind ``user`` or ``token``);
    None when there is no such subject (any more)."""
    if kind == "user":
        user = deps.stores.users.get(name)
        return tuple(grants_of_user(deps, user)) if user is not None else None
    if kind == "token":
        token = deps.stores.tokens.get(name)
        return _token_grants(deps, token) if token is not None else None
    if kind == "app":
        return app_grants(name) if deps.stores.app_tokens.get(name) is not None else None
    return None


class LocalGrants:
    """The auth service's own grant source (shared/http/grants.py): its storage."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def grants_of(self, kind: str, name: str) -> tuple[Grant, ...] | None:
        return grants_of(self._deps, kind, name)


def _user_identity(deps: Deps, user, token_kind: str, h: str) -> Identity:  # type: ignore[no-untyped-def]
    return Identity(
        kind="user",
        name=user.email,
        email=user.email,
        token_kind=token_kind,
        grants=tuple(grants_of_user(deps, user)),
        token_hash=h,
    )
