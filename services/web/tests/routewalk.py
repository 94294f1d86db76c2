"""How tests/architecture walks the dashboard (see shared/testing/routewalk.py).

Every dashboard route is public for the identity layer: the browser brings no token,
the dashboard checks its own session cookie (and CSRF token on forms), and the API
calls it makes carry the user's token. So the allow-list is every ``/ui`` route.
"""

from __future__ import annotations

from flask import Flask

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from services.web.tests.fakes import fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk

BASE = Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")
SETTINGS = WebSettings(BASE, api_url="http://127.0.0.1:1", session_dir="/nonexistent/sessions")
WHY = "a dashboard page or form: the browser's session cookie is checked here, not a token"


def make_app() -> Flask:
    return create_app(SETTINGS, fake_deps())


def public_routes(app: Flask) -> dict[str, str]:
    out = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/ui"):
            methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
            out[f"{methods} {rule.rule}"] = WHY
    return out


def walk() -> RouteWalk:
    return RouteWalk(make_app, public=public_routes(make_app()))
