"""Every mutating route records an event of tsuru's kind on the right target
(STYLE habit 8); login, logout, GETs and showing the API key record nothing."""

from __future__ import annotations

import pytest

from services.auth.domain.models import Team, TeamToken
from services.auth.tests.fakes import add_role, add_user
from shared.identity import token_hash

# (method, path, data, kind, target)
MUTATIONS = [
    (
        "POST",
        "/users",
        {"email": "n@example.com", "password": "abcdef"},
        "user.create",
        "user:n@example.com",
    ),
    (
        "PUT",
        "/users/password",
        {"old": "secret123", "new": "abcdefg", "confirm": "abcdefg"},
        "user.update.password",
        "user:admin@example.com",
    ),
    ("POST", "/users/bob@example.com/password", {}, "user.update.reset", "user:bob@example.com"),
    ("POST", "/users/api-key", {}, "user.update.token", "user:admin@example.com"),
    (
        "PUT",
        "/users/bob@example.com/quota",
        {"limit": "2"},
        "user.update.quota",
        "user:bob@example.com",
    ),
    ("DELETE", "/users?user=bob@example.com", None, "user.delete", "user:bob@example.com"),
    ("POST", "/teams", {"name": "green"}, "team.create", "team:green"),
    ("PUT", "/teams/blue", {"tag": "x"}, "team.update", "team:blue"),
    ("POST", "/teams/blue", {"tag": "x"}, "team.update", "team:blue"),
    ("PUT", "/teams/blue/quota", {"limit": "2"}, "team.update.quota", "team:blue"),
    ("DELETE", "/teams/blue", None, "team.delete", "team:blue"),
    ("POST", "/tokens", {"team": "blue"}, "team.token.create", "team:blue"),
    ("PUT", "/tokens/tok", {"description": "d"}, "team.token.update", "team:blue"),
    ("DELETE", "/tokens/tok", None, "team.token.delete", "team:blue"),
    ("POST", "/roles", {"name": "new", "context": "team"}, "role.create", "role:new"),
    ("PUT", "/roles", {"name": "dev", "description": "d"}, "role.update", "role:dev"),
    ("DELETE", "/roles/empty", None, "role.delete", "role:empty"),
    (
        "POST",
        "/roles/dev/permissions",
        {"permission": "app.read"},
        "role.update.permission.add",
        "role:dev",
    ),
    (
        "DELETE",
        "/roles/dev/permissions/app.deploy",
        None,
        "role.update.permission.remove",
        "role:dev",
    ),
    (
        "POST",
        "/roles/dev/user",
        {"email": "bob@example.com", "context": "blue"},
        "role.update.assign",
        "role:dev",
    ),
    (
        "DELETE",
        "/roles/dev/user/bob@example.com?context=blue",
        None,
        "role.update.dissociate",
        "role:dev",
    ),
    (
        "POST",
        "/roles/dev/token",
        {"token_id": "tok", "context": "blue"},
        "role.update.assign",
        "role:dev",
    ),
    ("DELETE", "/roles/dev/token/tok?context=blue", None, "role.update.dissociate", "role:dev"),
    (
        "POST",
        "/roles/dev/group",
        {"group_name": "g", "context": "blue"},
        "role.update.assign",
        "role:dev",
    ),
    ("DELETE", "/roles/dev/group/g?context=blue", None, "role.update.dissociate", "role:dev"),
    ("POST", "/role/default", {"team-create": "dev"}, "role.default.create", "role:dev"),
    ("DELETE", "/role/default?team-create=dev", None, "role.default.delete", "role:dev"),
]

QUIET = [
    ("POST", "/auth/login", {"email": "bob@example.com", "password": "secret123"}),
    ("GET", "/users/api-key", None),
    ("GET", "/users", None),
    ("GET", "/teams", None),
    ("GET", "/tokens", None),
    ("GET", "/roles", None),
    ("DELETE", "/users/tokens", None),
]


@pytest.fixture
def world(deps, admin):
    deps.stores.teams.add(Team("blue"))
    add_user(deps, "bob@example.com")
    add_role(deps, "dev", "team", "app.deploy")
    add_role(deps, "empty", "team")
    deps.stores.tokens.add(
        TeamToken("tok", token_hash("raw"), "blue", "a@example.com", deps.clock())
    )
    return admin


@pytest.mark.parametrize(("method", "path", "data", "kind", "target"), MUTATIONS)
def test_mutation_records_event(client, events, world, method, path, data, kind, target):
    resp = client.open(path, method=method, data=data, headers=world)
    assert resp.status_code < 300, resp.data
    evt = events.last()
    assert (evt.kind.name, f"{evt.target.type}:{evt.target.value}", evt.error, not evt.running) == (
        kind,
        target,
        "",
        True,
    )


@pytest.mark.parametrize(("method", "path", "data"), QUIET)
def test_reads_and_sessions_record_nothing(client, events, world, method, path, data):
    resp = client.open(path, method=method, data=data, headers=world)
    assert resp.status_code < 300, resp.data
    assert events.records == []
