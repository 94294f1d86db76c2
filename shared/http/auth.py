"""Who is calling: the gateway's signed identity, verified on every request.

A request without the header is anonymous; a request with a header that does not
verify (forged, expired, signed with another secret) is refused with 401 before any
view runs, so a service reached directly cannot be fooled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from shared.errors import Unauthorized
from shared.identity import IDENTITY_HEADER, Identity, InvalidIdentity

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
        identity = current_app.extensions["tsubame_identity"](
            header,
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


def _declare(view: Callable[..., Any], **marks: Any) -> None:
    for name, value in marks.items():
        setattr(view, f"_tsubame_{name}", value)


def requires(*permissions: str) -> Callable[[F], F]:
    """Declare the permission the route's operation checks; the route needs a token.

    The check itself needs the target's contexts (an app's teams, ...), so the
    operation performs it (``shared.permissions.ensure``, ``shared.mutation``). Several
    names mean the operation lets any of them through (tsuru's ``GET /roles``). The
    architecture tests call every route and compare what its operation checked with
    this declaration.
    """
    if not permissions:
        raise ValueError("requires() needs at least one permission")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_identity()
            return view(*args, **kwargs)

        _declare(wrapper, permission=permissions)
        return wrapper  # type: ignore[return-value]

    return decorate


def authenticated(reason: str) -> Callable[[F], F]:
    """A route any token may call, whose operation checks no fixed permission:
    self-service (the caller's own user), listings filtered by all the caller's
    grants, or a permission stored with the target (an event's ``Allowed``).
    ``reason`` says which, for readers and the route report."""
    if not reason:
        raise ValueError("authenticated() needs its reason")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_identity()
            return view(*args, **kwargs)

        _declare(wrapper, authenticated=reason)
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """A route tsuru serves without a token (auth scheme, login, user create, ...)."""
    _declare(view, public=True)
    return view


def internal(view: F) -> F:
    """A route only our own processes call (identity kind ``internal``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ident = current_identity()
        if ident is None or ident.kind != "internal":
            raise Unauthorized()
        return view(*args, **kwargs)

    _declare(wrapper, internal=True)
    return wrapper  # type: ignore[return-value]


def no_event(reason: str) -> Callable[[F], F]:
    """A mutating route that records no event, and why (tsuru records none for a
    login, a logout, a cancel request). Put it above the access declaration."""

    def decorate(view: F) -> F:
        _declare(view, no_event=reason)
        return view

    return decorate
