from __future__ import annotations

import re

from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

from shared.testing.routes import (
    route_declarations,
    service_document,
    undeclared_routes,
    undocumented_routes,
    unknown_permissions,
)

PUBLIC = {
    # tsuru serves these without a token (auth.md §1.1).
    "POST /users",
    "POST /auth/login",
    "POST /users/<email>/tokens",
    "GET /auth/scheme",
    "POST /users/<email>/password",
    "GET,POST /auth/saml",
    "GET /internal/health",
}


def test_every_route_declares_its_permission(app):
    assert undeclared_routes(app) == []
    assert unknown_permissions(app) == []


def test_public_routes_are_exactly_tsurus_open_handlers(app):
    public = {k for k, v in route_declarations(app).items() if v == "public"}
    assert public == PUBLIC


def test_internal_routes(app):
    internal = {k for k, v in route_declarations(app).items() if v == "internal"}
    # GET /internal/openapi.json: every service's document, added by make_app.
    assert internal == {
        "POST /internal/introspect",
        "POST /internal/grants",
        "GET /internal/teams",
        "GET /internal/openapi.json",
    }


def test_every_route_declares_its_responses(app):
    assert undocumented_routes(app) == []
    doc = service_document(app)
    assert [e.message for e in OPENAPI_30_VALIDATOR.iter_errors(doc)] == []
    rules = {r.rule for r in app.url_map.iter_rules()} - {
        "/static/<path:filename>",
        "/internal/health",
        "/internal/openapi.json",
    }
    assert set(doc["paths"]) == {re.sub(r"<([^>]+)>", r"{\1}", r) for r in rules}
