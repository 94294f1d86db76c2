"""Composition root of the web dashboard.

``connect(settings)`` makes its collaborators without I/O: the session store (files
in the shared data directory) and the HTTP client to the public API (the gateway).
The dashboard has no database, no bus and no worker: it is a tsuru client.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.web.adapters.tsuru_api import TsuruApi
from services.web.api import (
    admin,
    app_actions,
    app_pages,
    assets,
    auth,
    catalog,
    events,
    logs,
    people,
)
from services.web.api.render import install
from services.web.operations.deps import Config, Deps
from services.web.settings import WebSettings
from services.web.storage.files import FileSessionStore
from shared.http import make_app
from shared.wiring import Wired

BLUEPRINTS = (
    assets.bp,
    auth.bp,
    app_pages.bp,
    app_actions.bp,
    logs.bp,
    people.bp,
    catalog.bp,
    events.bp,
    admin.bp,
)


def config(settings: WebSettings) -> Config:
    return Config(
        session_seconds=settings.session_seconds,
        secure_cookie=settings.secure_cookie,
        follow_seconds=settings.follow_seconds,
        public_url=settings.base.public_url,
    )


def connect(settings: WebSettings) -> Wired[Deps]:
    sessions = FileSessionStore(settings.session_dir)
    deps = Deps(
        sessions=sessions,
        api=TsuruApi(settings.api_url, timeout=settings.api_timeout),
        config=config(settings),
    )
    return Wired(deps, startup=sessions.ensure)


def create_app(
    settings: WebSettings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    app = make_app("web", settings.base, blueprints=BLUEPRINTS, deps=deps, startup=startup)
    install(app)
    return app
