"""How tests/architecture calls every route of the auth service (see
shared/testing/routewalk.py): a small world, and a sample for each route whose
default call (``x`` path parameters, no body) would not reach its check or event."""

from __future__ import annotations

from flask import Flask

from services.auth.bootstrap import config_from, create_app
from services.auth.domain.models import Role, RoleInstance, Team, TeamToken, User
from services.auth.settings import AuthSettings
from services.auth.tests.fakes import CHEAP_HASH, PASSWORD, fake_deps
from shared.identity import token_hash
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample, root_user

ADMIN = "admin@example.com"
SETTINGS = AuthSettings.from_settings(
    Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")
)

PUBLIC = {
    # tsuru serves these without a token (auth.md §1.1).
    "POST /users": "user registration (the operation applies the registration rules)",
    "POST /auth/login": "login",
    "POST /users/<email>/tokens": "login, tsuru's older spelling",
    "GET /auth/scheme": "clients ask how to log in before they can",
    "POST /users/<email>/password": "password reset by mail",
    "GET,POST /auth/saml": "the SAML callback (answers that the scheme is not SAML)",
}

SAMPLES = {
    "POST /users": Sample("/users", data={"email": "n@example.com", "password": "abcdef"}),
    "DELETE /users": Sample("/users?user=bob@example.com"),
    "PUT /users/password": Sample(
        "/users/password", data={"old": PASSWORD, "new": "abcdefg", "confirm": "abcdefg"}
    ),
    "POST /users/<email>/password": Sample("/users/bob@example.com/password"),
    "GET /users/<email>/quota": Sample("/users/bob@example.com/quota"),
    "PUT /users/<email>/quota": Sample("/users/bob@example.com/quota", data={"limit": "2"}),
    "POST /teams": Sample("/teams", data={"name": "green"}),
    "GET /teams/<name>": Sample("/teams/blue"),
    "PUT /teams/<name>": Sample("/teams/blue", data={"tag": "x"}),
    "POST /teams/<name>": Sample("/teams/blue", data={"tag": "x"}),
    "DELETE /teams/<name>": Sample("/teams/blue"),
    "GET /teams/<name>/quota": Sample("/teams/blue/quota"),
    "PUT /teams/<name>/quota": Sample("/teams/blue/quota", data={"limit": "2"}),
    "GET /tokens/<token_id>": Sample("/tokens/tok"),
    "POST /tokens": Sample("/tokens", data={"team": "blue"}),
    "PUT /tokens/<token_id>": Sample("/tokens/tok", data={"description": "d"}),
    "DELETE /tokens/<token_id>": Sample("/tokens/tok"),
    "POST /roles": Sample("/roles", data={"name": "new", "context": "team"}),
    "PUT /roles": Sample("/roles", data={"name": "dev", "description": "d"}),
    "GET /roles/<name>": Sample("/roles/dev"),
    "DELETE /roles/<name>": Sample("/roles/empty"),
    "POST /roles/<name>/permissions": Sample(
        "/roles/dev/permissions", data={"permission": "app.read"}
    ),
    "DELETE /roles/<name>/permissions/<permission>": Sample("/roles/dev/permissions/app.deploy"),
    "POST /roles/<name>/user": Sample(
        "/roles/dev/user", data={"email": "bob@example.com", "context": "blue"}
    ),
    "DELETE /roles/<name>/user/<email>": Sample("/roles/dev/user/bob@example.com?context=blue"),
    "POST /roles/<name>/token": Sample(
        "/roles/dev/token", data={"token_id": "tok", "context": "blue"}
    ),
    "DELETE /roles/<name>/token/<token_id>": Sample("/roles/dev/token/tok?context=blue"),
    "POST /roles/<name>/group": Sample(
        "/roles/dev/group", data={"group_name": "g", "context": "blue"}
    ),
    "DELETE /roles/<name>/group/<group_name>": Sample("/roles/dev/group/g?context=blue"),
    "POST /role/default": Sample("/role/default", data={"team-create": "dev"}),
    "DELETE /role/default": Sample("/role/default?team-create=dev"),
}


def make_app() -> Flask:
    deps = fake_deps(config_from(SETTINGS))
    stores = deps.stores
    stores.roles.add(Role("AllowAll", "global", "", ["*"]))
    stores.users.add(User(ADMIN, CHEAP_HASH, roles=[RoleInstance("AllowAll", "")]))
    stores.users.add(User("bob@example.com", CHEAP_HASH))
    stores.teams.add(Team("blue", ADMIN))
    stores.roles.add(Role("dev", "team", "", ["app.deploy"]))
    stores.roles.add(Role("empty", "team"))
    stores.tokens.add(TeamToken("tok", token_hash("raw"), "blue", ADMIN, deps.clock()))
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return RouteWalk(make_app, actor=root_user(ADMIN), samples=SAMPLES, public=PUBLIC)
