from __future__ import annotations

from shared.testing.routes import route_declarations, undeclared_routes, unknown_permissions

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
    assert internal == {"POST /internal/introspect", "POST /internal/grants", "GET /internal/teams"}
