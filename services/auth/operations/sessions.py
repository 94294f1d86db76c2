"""Login, logout and token introspection (auth.md §1.3-§1.5, §3.2, §3.3)."""

from __future__ import annotations

from datetime import timedelta

import bcrypt

from services.auth.domain import errors, rules
from services.auth.domain.grants import expand
from services.auth.domain.models import Session
from services.auth.domain.secrets import new_token, token_hash
from services.auth.operations.access import grants_of_user
from services.auth.operations.ports import Deps
from shared.bus import keys
from shared.identity import Identity


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
    user = deps.repos.users.get(email)
    if user is None:
        raise errors.UserNotFound()
    if not rules.password_length_ok(password):
        raise errors.InvalidLoginPassword()
    if not password_matches(password, user.password):
        raise errors.WrongPassword()
    raw = new_token()
    now = deps.clock()
    expires = now + timedelta(days=deps.config.token_expire_days)
    deps.repos.sessions.add(Session(token_hash(raw), email, now, expires))
    return raw


def logout(deps: Deps, identity: Identity) -> None:
    """Deletes only the presented session token; it stops working at once."""
    if identity.token_kind != "session" or not deps.repos.sessions.delete(identity.token_hash):
        raise errors.NotSessionToken()
    deps.publisher.publish(keys.TOKEN_REVOKED, {"token_hash": identity.token_hash})


def introspect(deps: Deps, raw: str) -> Identity:
    """The identity a raw token stands for: session, then API key, then team token."""
    if not raw:
        raise UnknownToken()
    h = token_hash(raw)
    now = deps.clock()
    session = deps.repos.sessions.get(h)
    if session is not None:
        user = deps.repos.users.get(session.email) if now < session.expires else None
        if user is None:
            raise UnknownToken()
        return _user_identity(deps, user, "session", h)
    user = deps.repos.users.by_apikey(h)
    if user is not None:
        return _user_identity(deps, user, "apikey", h)
    token = deps.repos.tokens.by_hash(h)
    if token is None:
        raise UnknownToken()
    if token.expired(now):
        raise errors.TeamTokenExpired()
    deps.repos.tokens.touch(token.token_id, now)
    roles = deps.repos.roles.get_many([r.name for r in token.roles])
    return Identity(
        kind="token",
        name=token.token_id,
        token_kind="team",
        grants=tuple(expand(token.roles, roles)),
        token_hash=h,
    )


def _user_identity(deps: Deps, user, token_kind: str, h: str) -> Identity:  # type: ignore[no-untyped-def]
    return Identity(
        kind="user",
        name=user.email,
        email=user.email,
        token_kind=token_kind,
        grants=tuple(grants_of_user(deps, user)),
        token_hash=h,
    )
