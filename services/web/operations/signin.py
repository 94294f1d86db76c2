"""Sign in and out, and finding the browser's session."""

from __future__ import annotations

from services.web.domain.errors import ApiError, ApiUnavailable
from services.web.domain.session import Session, is_admin, new_id, open_session
from services.web.operations.deps import Deps


def sign_in(deps: Deps, email: str, password: str) -> tuple[str, Session]:
    """``tsuru login``: the API's own checks and texts (404 user not found, 401 ...)."""
    reply = deps.api.call(None, "POST", "/auth/login", form={"email": email, "password": password})
    token = str((reply.json() or {}).get("token", ""))
    if not token:
        raise ApiError(502, "the API answered the login without a token")
    try:
        info = deps.api.call(token, "GET", "/users/info").json() or {}
    except ApiError:
        info = {}  # a user without roles still signs in
    now = deps.clock()
    session = open_session(
        str(info.get("Email") or email),
        token,
        now=now,
        lifetime=deps.config.session_seconds,
        admin=is_admin(info.get("Permissions")),
    )
    sid = new_id()
    deps.sessions.put(sid, session)
    deps.sessions.sweep(now)
    return sid, session


def current(deps: Deps, sid: str) -> Session | None:
    if not sid:
        return None
    session = deps.sessions.get(sid)
    if session is None:
        return None
    if session.expired(deps.clock()):
        deps.sessions.delete(sid)
        return None
    return session


def sign_out(deps: Deps, sid: str) -> None:
    """Forget the session and revoke its token (``tsuru logout``) when still valid."""
    session = deps.sessions.get(sid) if sid else None
    if sid:
        deps.sessions.delete(sid)
    if session is not None:
        try:
            deps.api.call(session.token, "DELETE", "/users/tokens")
        except (ApiError, ApiUnavailable):
            pass  # already expired or revoked, or the API is down: the session is gone


def forget(deps: Deps, sid: str) -> None:
    """The API no longer accepts the session's token: drop the session only."""
    if sid:
        deps.sessions.delete(sid)
