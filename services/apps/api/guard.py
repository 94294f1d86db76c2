"""The checks tsuru runs before every handler of a route with ``{app}`` (apps.md §0.3).

In this order, only when the request carries a token (without one the view answers
401): an app token for another app is refused with 403 ``app token mismatch ...``;
for user and team tokens a missing app is 404 ``App <name> not found.`` before any
input validation or permission check. Routes spelled with ``{appname}`` (deploy,
build, diff, repository clone, shell) skip both: their handlers look the app up with
other messages. Every apps blueprint is made by ``app_blueprint`` so none forgets.

A view marked ``@finds_app`` skips only the existence read: its operation's first step
is ``lookup.existing``, the same read answering the same 404 before anything else, so
the guard's would be a second database round trip for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from services.apps.api.deps import deps
from services.apps.domain import errors
from shared.http import Blueprint, current_identity

APP_PARAM = "app"
_FINDS_APP = "_tsubame_finds_app"

F = TypeVar("F", bound=Callable[..., Any])


def finds_app(view: F) -> F:
    """Mark a view whose operation looks the app up first (``lookup.existing``, 404
    ``App <name> not found.``) and reads no input before: the guard does not read it too."""
    setattr(view, _FINDS_APP, True)
    return view


def app_guard() -> None:
    name = (request.view_args or {}).get(APP_PARAM)
    identity = current_identity()
    if name is None or identity is None:
        return
    if identity.kind == "app":
        if identity.name != name:
            raise errors.AppTokenMismatch(identity.name, name)
        return
    if identity.kind not in ("user", "token"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, _FINDS_APP, False):
        return
    if not deps().stores.apps.exists(name):
        raise errors.AppNotFound(name)


def app_blueprint(name: str, import_name: str) -> Blueprint:
    """A Blueprint whose ``<app>`` routes get tsuru's middleware checks."""
    bp = Blueprint(name, import_name)
    bp.before_request(app_guard)
    return bp
