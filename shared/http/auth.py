"""Who is calling: the gateway's signed identity, verified on every request.

A request without the header is anonymous; a request with a header that does not
verify (forged, expired, signed with another secret) is refused with 401 before any
view runs, so a service reached directly cannot be fooled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from shared import permissions
from shared.errors import Forbidden, Unauthorized
from shared.identity import IDENTITY_HEADER, Identity, InvalidIdentity, verify

F = TypeVar("F", bound=Callable[..., Any])

WWW_AUTHENTICATE = 'Bearer realm="tsuru" scope="tsuru"'


class InvalidIdentityHeader(Unauthorized):
    message = "invalid identity"


def wsgi_path(environ: dict[str, Any]) -> bytes:
    """The decoded request path as bytes (WSGI carries them as latin-1 text)."""
    path = environ.get("PATH_INFO", "")
    try:
        return str(path).encode("latin-1")
    except UnicodeEncodeError:  # not from a WSGI server (some test clients)
        return str(path).encode("utf-8", "surrogateescape")


def load_identity() -> None:
    """``before_request`` hook installed by ``make_app``: verify, then complete grants."""
    g.identity = None
    header = request.headers.get(IDENTITY_HEADER)
    if not header:
        return
    settings = current_app.config["TSUBAME_SETTINGS"]
    try:
        identity = verify(
            header,
            settings.identity_secret,
            method=request.method,
            path=wsgi_path(request.environ),
            max_age=settings.identity_max_age,
        )
    except InvalidIdentity as exc:
        raise InvalidIdentityHeader() from exc
    if identity.deferred_grants:
        identity = current_app.extensions["tsubame_grants"].complete(identity)
    g.identity = identity


def current_identity() -> Identity | None:
    identity: Identity | None = g.get("identity")
    return identity


def require_identity() -> Identity:
    ident = current_identity()
    if ident is None:
        raise Unauthorized()
    return ident


def requires(permission: str) -> Callable[[F], F]:
    """Declare a route's permission; the route needs a token.

    The check itself needs the target's contexts (an app's teams, ...), so the
    operation performs it with ``ensure``; this marker lets a test walk every route.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_identity()
            return view(*args, **kwargs)

        wrapper._tsubame_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """A route tsuru serves without a token (auth scheme, login, user create, ...)."""
    view._tsubame_public = True  # type: ignore[attr-defined]
    return view


def internal(view: F) -> F:
    """A route only our own processes call (identity kind ``internal``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ident = current_identity()
        if ident is None or ident.kind != "internal":
            raise Unauthorized()
        return view(*args, **kwargs)

    wrapper._tsubame_internal = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def ensure(identity: Identity, permission: str, contexts: Iterable[tuple[str, str]] = ()) -> None:
    """403 ``You don't have permission to do this action`` unless allowed."""
    if not permissions.check(identity.grants, permission, contexts):
        raise Forbidden()
