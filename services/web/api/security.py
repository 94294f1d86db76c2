"""The browser side of a session: its cookie, CSRF tokens, security headers.

* The cookie holds only the session id: HttpOnly (no script reads it), SameSite=Strict
  (another site's page never sends it), Secure with the ``__Host-`` name behind HTTPS.
* Every form carries a CSRF token; a POST without the session's token is refused
  (403) before anything is done. The sign-in form, which has no session yet, uses a
  double-submit token: a random value in its own HttpOnly cookie and in the form.
* Every answer carries a strict Content Security Policy: scripts, styles and
  requests from this origin only, no inline script or style, no framing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, request

from services.web.api.deps import deps
from services.web.domain.errors import CsrfRejected, SignInRequired
from services.web.domain.session import Session, new_id, same_secret
from services.web.operations import signin

F = TypeVar("F", bound=Callable[..., Any])

CSRF_FIELD = "csrf"
LOGIN_COOKIE = "tsubame_login"
FLASH_COOKIE = "tsubame_flash"
PREFIX = "/ui"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def cookie_name() -> str:
    return "__Host-tsubame_session" if deps().config.secure_cookie else "tsubame_session"


def _cookie_path() -> str:
    # __Host- cookies must have Path=/; otherwise keep the cookie to the dashboard.
    return "/" if deps().config.secure_cookie else PREFIX


def set_session_cookie(resp: Response, sid: str) -> None:
    resp.set_cookie(
        cookie_name(),
        sid,
        max_age=int(deps().config.session_seconds),
        path=_cookie_path(),
        secure=deps().config.secure_cookie,
        httponly=True,
        samesite="Strict",
    )


def clear_session_cookie(resp: Response) -> None:
    resp.delete_cookie(
        cookie_name(),
        path=_cookie_path(),
        secure=deps().config.secure_cookie,
        httponly=True,
        samesite="Strict",
    )


def session_id() -> str:
    return request.cookies.get(cookie_name(), "")


def current_session() -> Session | None:
    if "session" not in g:
        g.session = signin.current(deps(), session_id())
    session: Session | None = g.session
    return session


def signed_in(view: F) -> F:
    """The view needs a signed-in browser (it gets the session first); a POST must
    carry the session's CSRF token."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = current_session()
        if session is None:
            raise SignInRequired()
        if request.method == "POST" and not same_secret(
            request.form.get(CSRF_FIELD, ""), session.csrf
        ):
            raise CsrfRejected()
        return view(session, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# -- the sign-in form's double-submit token ---------------------------------------------


def login_csrf() -> str:
    """The token of the sign-in form shown now (reused while its cookie lives)."""
    if "login_csrf" not in g:
        g.login_csrf = request.cookies.get(LOGIN_COOKIE) or new_id()
    token: str = g.login_csrf
    return token


def set_login_cookie(resp: Response) -> None:
    resp.set_cookie(
        LOGIN_COOKIE,
        login_csrf(),
        max_age=3600,
        path=PREFIX,
        secure=deps().config.secure_cookie,
        httponly=True,
        samesite="Strict",
    )


def check_login_csrf() -> None:
    if not same_secret(request.form.get(CSRF_FIELD, ""), request.cookies.get(LOGIN_COOKIE, "")):
        raise CsrfRejected()


# -- one-time notices after a redirect (signed, so no page can be made to say anything) --


def _flash_key() -> bytes:
    secret: bytes = current_app.config["TSUBAME_SETTINGS"].identity_secret
    return hashlib.sha256(b"tsubame web flash\x00" + secret).digest()


def set_flash(resp: Response, message: str) -> None:
    raw = base64.urlsafe_b64encode(message[:500].encode()).decode()
    mac = hmac.new(_flash_key(), raw.encode(), hashlib.sha256).hexdigest()[:32]
    resp.set_cookie(
        FLASH_COOKIE, f"{raw}.{mac}", max_age=60, path=PREFIX, httponly=True, samesite="Strict"
    )


def take_flash() -> str:
    value = request.cookies.get(FLASH_COOKIE, "")
    raw, _, mac = value.partition(".")
    if not raw or not mac:
        return ""
    expected = hmac.new(_flash_key(), raw.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, expected):
        return ""
    g.flash_taken = True
    try:
        return base64.urlsafe_b64decode(raw.encode()).decode()
    except ValueError:
        return ""


def secure_headers(resp: Response) -> Response:
    """``after_request``: the security headers on every answer, pages uncached."""
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    if not request.path.startswith(PREFIX + "/static/"):
        resp.headers["Cache-Control"] = "no-store"
    if g.get("flash_taken"):
        resp.delete_cookie(FLASH_COOKIE, path=PREFIX, httponly=True, samesite="Strict")
    return resp
