"""The ``{app}`` middleware rules (apps.md §0.3) on a route made for the test."""

from __future__ import annotations

from flask import Response

from services.apps.api.guard import app_blueprint, finds_app
from services.apps.domain.models import App
from services.apps.operations.lookup import existing
from services.apps.tests.fakes import fake_deps
from services.apps.tests.routewalk import SETTINGS
from services.apps.tests.unit.conftest import admin, app_token, call, user
from shared.http import empty, make_app, require_identity, requires
from shared.permissions import ensure


def build():  # type: ignore[no-untyped-def]
    bp = app_blueprint("probe", __name__)

    @bp.route("/apps/<app>/probe", methods=["POST"])
    @requires("app.update")
    def probe(app: str) -> Response:
        ensure(require_identity(), "app.update", [("app", app)])
        return empty()

    deps = fake_deps()
    deps.stores.apps.add(App("shop", teams=["blue"]))
    return make_app("apps", SETTINGS.base, blueprints=[bp], deps=deps)


def test_missing_app_is_404_before_the_permission_check() -> None:
    r = call(build(), "POST", "/apps/nope/probe", user("bob@example.com"))
    assert (r.status_code, r.text) == (404, "App nope not found.\n")
    assert call(build(), "POST", "/apps/shop/probe", user("bob@example.com")).status_code == 403
    assert call(build(), "POST", "/apps/shop/probe", admin()).status_code == 200


def test_app_token_of_another_app_is_refused_even_when_the_app_is_missing() -> None:
    r = call(build(), "POST", "/apps/nope/probe", app_token("shop"))
    assert r.status_code == 403
    assert r.text == 'app token mismatch, token for "shop", request for "nope"\n'
    # Its own app: the route's own check decides (the app token lacks app.update).
    assert call(build(), "POST", "/apps/shop/probe", app_token("shop")).status_code == 403


def test_no_token_is_401_whatever_the_app() -> None:
    r = call(build(), "POST", "/apps/nope/probe", None)
    assert r.status_code == 401


def test_a_view_that_finds_the_app_itself_is_not_read_twice() -> None:
    deps = fake_deps()
    deps.stores.apps.add(App("shop", teams=["blue"]))
    reads: list[str] = []
    store = deps.stores.apps
    exists, get = store.exists, store.get
    store.exists = lambda name: reads.append(f"exists {name}") or exists(name)  # type: ignore[method-assign]
    store.get = lambda name: reads.append(f"get {name}") or get(name)  # type: ignore[method-assign]
    bp = app_blueprint("probe", __name__)

    @bp.route("/apps/<app>/probe", methods=["GET"])
    @finds_app
    @requires("app.read")
    def probe(app: str) -> Response:
        found = existing(deps, app)
        ensure(require_identity(), "app.read", found.contexts())
        return empty()

    flask_app = make_app("apps", SETTINGS.base, blueprints=[bp], deps=deps)
    r = call(flask_app, "GET", "/apps/nope/probe", user("bob@example.com"))
    assert (r.status_code, r.text) == (404, "App nope not found.\n")
    assert call(flask_app, "GET", "/apps/shop/probe", user("bob@example.com")).status_code == 403
    assert call(flask_app, "GET", "/apps/shop/probe", admin()).status_code == 200
    assert reads == ["get nope", "get shop", "get shop"]
    # The app token rule still holds before the view.
    r = call(flask_app, "GET", "/apps/nope/probe", app_token("shop"))
    assert r.status_code == 403 and r.text.startswith("app token mismatch")
