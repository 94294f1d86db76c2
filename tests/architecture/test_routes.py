"""Every route of every service, called: declared access, permission and event.

Each service's ``tests/routewalk.py`` says how to build it on fakes; routes are
taken from the app itself, so a route added tomorrow is checked tomorrow.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from shared import permissions
from shared.testing.routes import (
    INTERNAL,
    PERMISSION,
    PUBLIC,
    Declaration,
    declarations,
    service_document,
    undeclared_routes,
    undocumented_routes,
    unknown_permissions,
)
from shared.testing.routewalk import RouteWalk, recorded
from tests.architecture.layout import SERVICES

HEALTH = {"GET /internal/health": "the launcher and the gateway probe it"}


@pytest.fixture(scope="module", params=SERVICES)
def walk(request: pytest.FixtureRequest) -> RouteWalk:
    try:
        module = importlib.import_module(f"services.{request.param}.tests.routewalk")
    except ModuleNotFoundError:
        pytest.fail(f"services/{request.param}/tests/routewalk.py is missing (walk() -> RouteWalk)")
    walk: RouteWalk = module.walk()
    return walk


@pytest.fixture(scope="module")
def app(walk: RouteWalk) -> Flask:
    return walk.make_app()


def routes(app: Flask) -> Iterator[tuple[str, str, Declaration]]:
    for key, decl in sorted(declarations(app).items()):
        methods, rule = key.split(" ", 1)
        for method in methods.split(","):
            yield method, rule, decl


def test_every_route_declares_its_access(app: Flask) -> None:
    assert undeclared_routes(app) == [], "declare @requires, @authenticated, @public or @internal"
    assert unknown_permissions(app) == []


def test_every_route_declares_its_answers_in_the_services_document(app: Flask) -> None:
    """Each route declares its responses (``Blueprint.output``/``errors``), and the
    service's OpenAPI document is valid and holds every route it serves."""
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

    assert undocumented_routes(app) == []
    doc = service_document(app)
    assert [e.message for e in OPENAPI_30_VALIDATOR.iter_errors(doc)] == []
    own = {"/static/<path:filename>", "/internal/health", "/internal/openapi.json"}
    own.add("/internal/metrics")
    rules = {r.rule for r in app.url_map.iter_rules()} - own
    assert set(doc["paths"]) == {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", r) for r in rules}


def test_public_routes_are_the_services_commented_allow_list(walk: RouteWalk, app: Flask) -> None:
    public = {k for k, d in declarations(app).items() if d.access == PUBLIC}
    assert public == set(walk.public) | set(HEALTH)
    assert all(walk.public.values()), "say why each public route is public"


def test_routes_refuse_callers_they_do_not_serve(walk: RouteWalk, app: Flask) -> None:
    wrong = []
    for method, rule, decl in routes(app):
        if decl.access == PUBLIC:
            continue
        if walk.call(app, method, rule, None).status_code != 401:
            wrong.append(f"{method} {rule} served an anonymous caller")
        if decl.access == INTERNAL and walk.call(app, method, rule, walk.actor).status_code != 401:
            wrong.append(f"{method} {rule} (internal) served a user")
    assert wrong == []


def test_the_declared_permission_is_the_checked_one(walk: RouteWalk, app: Flask) -> None:
    """A ``@requires`` route's operation checks its declared permissions (or their
    descendants) and nothing else; a sample request must reach the check."""
    wrong = []
    for method, rule, decl in routes(app):
        if decl.access != PERMISSION:
            continue
        fresh = walk.make_app()
        with permissions.recording() as checked:
            resp = walk.call(fresh, method, rule, walk.actor)
        where = f"{method} {rule} (declares {decl}, answered {resp.status_code})"
        if not checked:
            wrong.append(f"{where}: checked nothing; add a sample to its routewalk.py")
        elif not all(decl.covers(c) for c in checked):
            wrong.append(f"{where}: checked {checked}")
        if f"{method} {rule}" in walk.samples and resp.status_code >= 400:
            wrong.append(f"{where}: its sample fails: {resp.get_data(as_text=True).strip()}")
    assert wrong == []


def test_every_mutating_route_records_an_event(walk: RouteWalk, app: Flask) -> None:
    """Compared with the route list: a route that changes something records an event
    of its permission's name, unless it says why not (``@no_event``)."""
    wrong = []
    for method, rule, decl in routes(app):
        if method == "GET" or decl.access == INTERNAL or decl.no_event:
            continue
        fresh = walk.make_app()
        before = len(recorded(fresh))
        resp = walk.call(fresh, method, rule, walk.actor)
        new = recorded(fresh)[before:]
        where = f"{method} {rule} (answered {resp.status_code})"
        if not new:
            wrong.append(f"{where}: recorded no event; add a sample or @no_event(reason)")
        elif decl.access == PERMISSION and not all(decl.covers(e.kind.name) for e in new):
            wrong.append(f"{where}: recorded {[e.kind.name for e in new]}, declares {decl}")
        if f"{method} {rule}" in walk.samples and resp.status_code >= 400:
            wrong.append(f"{where}: its sample fails: {resp.get_data(as_text=True).strip()}")
    assert wrong == []
