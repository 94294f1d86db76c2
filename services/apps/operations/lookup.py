"""Finding the app an operation acts on."""

from __future__ import annotations

from services.apps.domain import errors
from services.apps.domain.models import App
from services.apps.operations.deps import Deps


def existing(deps: Deps, name: str) -> App:
    """The app, or 404 ``App <name> not found.`` (the middleware's text)."""
    app = deps.stores.apps.get(name)
    if app is None:
        raise errors.AppNotFound(name)
    return app


def existing_bare(deps: Deps, name: str) -> App:
    """The app, or 404 ``App not found`` (deploy family, unit agent handlers)."""
    app = deps.stores.apps.get(name)
    if app is None:
        raise errors.AppNotFoundBare()
    return app
