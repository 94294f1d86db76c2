"""Teams, roles, team tokens through the gateway, and a permission matrix."""

from __future__ import annotations

import secrets

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import PASSWORD, bearer, login

pytestmark = pytest.mark.e2e

BAD_TEAM = (
    "Invalid team name, team names should start with a letter and"
    "contain only lower case letters, numbers, dashes, underscore and @.\n"
)


def new_team(stack: Stack, admin_token: str, prefix: str = "t") -> str:
    name = f"{prefix}{secrets.token_hex(4)}"
    resp = requests.post(
        f"{stack.url}/teams", data={"name": name, "tag": ["e2e"]}, headers=bearer(admin_token)
    )
    assert resp.status_code == 201, resp.text
    return name


def test_team_lifecycle(stack: Stack, admin_token, recorded_events) -> None:
    name = new_team(stack, admin_token)
    [evt] = recorded_events("team.create", name)
    assert evt["allowed"]["scheme"] == "team.read.events"
    listed = requests.get(f"{stack.url}/teams", headers=bearer(admin_token)).json()
    assert {
        "name": name,
        "tags": ["e2e"],
        "permissions": ["app", "team", "service", "service-instance", "volume", "webhook"],
    } in listed
    info = requests.get(f"{stack.url}/1.4/teams/{name}", headers=bearer(admin_token)).json()
    assert (info["name"], info["tags"], info["pools"], info["apps"]) == (name, ["e2e"], None, [])
    resp = requests.put(
        f"{stack.url}/teams/{name}", json={"tags": ["a", "b"]}, headers=bearer(admin_token)
    )
    assert resp.status_code == 200
    assert requests.get(f"{stack.url}/teams/{name}", headers=bearer(admin_token)).json()[
        "tags"
    ] == ["a", "b"]
    renamed = name + "-new"
    resp = requests.put(
        f"{stack.url}/teams/{name}", data={"newname": renamed}, headers=bearer(admin_token)
    )
    assert resp.status_code == 200
    assert requests.get(f"{stack.url}/teams/{name}", headers=bearer(admin_token)).status_code == 404
    resp = requests.put(
        f"{stack.url}/teams/{renamed}/quota", data={"limit": "3"}, headers=bearer(admin_token)
    )
    assert resp.status_code == 200
    assert requests.get(
        f"{stack.url}/teams/{renamed}/quota", headers=bearer(admin_token)
    ).json() == {"limit": 3, "inuse": 0}
    assert (
        requests.delete(f"{stack.url}/teams/{renamed}", headers=bearer(admin_token)).status_code
        == 200
    )
    assert recorded_events("team.delete", renamed)[-1]["error"] == ""
    resp = requests.delete(f"{stack.url}/teams/{renamed}", headers=bearer(admin_token))
    assert (resp.status_code, resp.text) == (404, f'Team "{renamed}" not found.\n')


@pytest.mark.parametrize("name", ["", "9lives", "Upper", "has space", "x"])
def test_invalid_team_names_store_nothing(stack: Stack, admin_token, name) -> None:
    resp = requests.post(f"{stack.url}/teams", data={"name": name}, headers=bearer(admin_token))
    assert (resp.status_code, resp.text) == (400, BAD_TEAM)
    if name:
        assert requests.get(
            f"{stack.url}/teams/{name.strip()}", headers=bearer(admin_token)
        ).status_code in (404, 501)


def test_malformed_team_json(stack: Stack, admin_token) -> None:
    resp = requests.post(
        f"{stack.url}/teams",
        data="{oops",
        headers={**bearer(admin_token), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and resp.text.startswith("unable to parse as json")


def test_roles_and_permissions(stack: Stack, admin_token, recorded_events) -> None:
    admin = bearer(admin_token)
    role = f"dev-{secrets.token_hex(3)}"
    assert (
        requests.post(
            f"{stack.url}/roles", data={"name": role, "context": "team"}, headers=admin
        ).status_code
        == 201
    )
    resp = requests.post(
        f"{stack.url}/roles", data={"name": role, "context": "team"}, headers=admin
    )
    assert (resp.status_code, resp.text) == (409, "role already exists\n")
    resp = requests.post(
        f"{stack.url}/roles/{role}/permissions",
        data={"permission": ["app.deploy", "pool.create"]},
        headers=admin,
    )
    assert (resp.status_code, resp.text) == (
        409,
        'permission "pool.create" not allowed with context of type "team"\n',
    )
    resp = requests.post(
        f"{stack.url}/roles/{role}/permissions", data={"permission": ["no.such"]}, headers=admin
    )
    assert (resp.status_code, resp.text) == (400, 'permission named "no.such" not found\n')
    resp = requests.post(
        f"{stack.url}/roles/{role}/permissions",
        data={"permission": ["app.deploy", "app.read"]},
        headers=admin,
    )
    assert resp.status_code == 200
    resp = requests.get(f"{stack.url}/roles/{role}", headers=admin)
    assert (
        resp.text
        == f'{{"name":"{role}","context":"team","Description":"","scheme_names":["app.deploy","app.read"]}}'
    )
    assert [e["error"] for e in recorded_events("role.update.permission.add", role)] == [
        'permission "pool.create" not allowed with context of type "team"',
        'permission named "no.such" not found',
        "",
    ]
    resp = requests.post(
        f"{stack.url}/roles", data={"name": "x", "context": "planet"}, headers=admin
    )
    assert (resp.status_code, resp.text) == (400, 'invalid context type "planet"\n')
    perms = requests.get(f"{stack.url}/permissions", headers=admin).json()
    assert perms[0] == {"Name": "", "Contexts": ["global"]}
    assert (
        requests.delete(f"{stack.url}/roles/{role}/permissions/app.read", headers=admin).status_code
        == 200
    )
    assert requests.delete(f"{stack.url}/roles/{role}", headers=admin).status_code == 200


def test_role_assignment_changes_access_at_once(stack: Stack, admin_token, make_user) -> None:
    team = new_team(stack, admin_token)
    email, token = make_user()
    assert (
        requests.put(f"{stack.url}/teams/{team}", data={}, headers=bearer(token)).status_code == 403
    )
    role = f"upd-{secrets.token_hex(3)}"
    admin = bearer(admin_token)
    requests.post(f"{stack.url}/roles", data={"name": role, "context": "team"}, headers=admin)
    requests.post(
        f"{stack.url}/roles/{role}/permissions", data={"permission": "team.update"}, headers=admin
    )
    resp = requests.post(
        f"{stack.url}/roles/{role}/user", data={"email": email, "context": team}, headers=admin
    )
    assert resp.status_code == 200
    assert (
        requests.put(f"{stack.url}/teams/{team}", data={}, headers=bearer(token)).status_code == 200
    )
    resp = requests.delete(
        f"{stack.url}/roles/{role}/user/{email}", params={"context": team}, headers=admin
    )
    assert resp.status_code == 200
    assert (
        requests.put(f"{stack.url}/teams/{team}", data={}, headers=bearer(token)).status_code == 403
    )
    resp = requests.post(
        f"{stack.url}/roles/{role}/user",
        data={"email": "ghost@example.com", "context": team},
        headers=admin,
    )
    assert (resp.status_code, resp.text) == (404, "user not found\n")


def test_team_tokens(stack: Stack, admin_token, make_user) -> None:
    team = new_team(stack, admin_token)
    _, token = make_user(("team", ["team.token"], team))
    resp = requests.post(
        f"{stack.url}/tokens", data={"team": team, "token_id": f"ci-{team}"}, headers=bearer(token)
    )
    assert resp.status_code == 201
    created = resp.json()
    value = created["token"]
    assert created["team"] == team and len(value) == 64
    resp = requests.post(
        f"{stack.url}/tokens", data={"team": team, "token_id": f"ci-{team}"}, headers=bearer(token)
    )
    assert (resp.status_code, resp.text) == (409, "team token already exists\n")
    resp = requests.post(
        f"{stack.url}/tokens", data={"team": team, "token_id": "Not Valid"}, headers=bearer(token)
    )
    assert (resp.status_code, resp.text) == (400, "invalid token_id\n")
    info = requests.get(f"{stack.url}/tokens/ci-{team}", headers=bearer(token)).json()
    assert info["token"] == ""
    # A team token works as a credential, with no permission until given a role.
    assert requests.get(f"{stack.url}/teams", headers=bearer(value)).status_code == 204
    role = f"tok-{secrets.token_hex(3)}"
    admin = bearer(admin_token)
    requests.post(f"{stack.url}/roles", data={"name": role, "context": "team"}, headers=admin)
    requests.post(
        f"{stack.url}/roles/{role}/permissions", data={"permission": "team.read"}, headers=admin
    )
    resp = requests.post(
        f"{stack.url}/roles/{role}/token",
        data={"token_id": f"ci-{team}", "context": team},
        headers=admin,
    )
    assert resp.status_code == 200
    listed = requests.get(f"{stack.url}/teams", headers=bearer(value)).json()
    assert listed == [{"name": team, "tags": ["e2e"], "permissions": ["team.read"]}]
    # Regenerating stops the old value at once.
    resp = requests.put(
        f"{stack.url}/tokens/ci-{team}", data={"regenerate": "true"}, headers=bearer(token)
    )
    new_value = resp.json()["token"]
    assert new_value and new_value != value
    assert requests.get(f"{stack.url}/teams", headers=bearer(value)).status_code == 401
    assert requests.get(f"{stack.url}/teams", headers=bearer(new_value)).status_code == 200
    # Expired team token: 401 with tsuru's text on every route, even open ones.
    resp = requests.post(
        f"{stack.url}/tokens", data={"team": team, "expires_in": "-1"}, headers=bearer(token)
    )
    expired = resp.json()["token"]
    for method, path in (("GET", "/teams"), ("GET", "/auth/scheme")):
        resp = requests.request(method, stack.url + path, headers=bearer(expired))
        assert (resp.status_code, resp.text) == (401, "team token expired\n")
    assert (
        requests.delete(f"{stack.url}/tokens/ci-{team}", headers=bearer(token)).status_code == 200
    )
    assert requests.get(f"{stack.url}/teams", headers=bearer(new_value)).status_code == 401
    nobody_email, nobody = make_user()
    assert requests.get(f"{stack.url}/tokens", headers=bearer(nobody)).status_code == 204


# --- permission matrix ----------------------------------------------------------------

# (grant context type, permissions, value ("{team}" = the case's team), method, path, data, expected)
MATRIX = [
    ("global", ["team.create"], "", "POST", "/teams", {"name": "{new}"}, 201),
    ("team", ["team"], "{team}", "POST", "/teams", {"name": "{new}"}, 403),
    ("app", ["app"], "someapp", "POST", "/teams", {"name": "{new}"}, 403),
    ("pool", ["app"], "somepool", "POST", "/teams", {"name": "{new}"}, 403),
    ("team", ["team.update"], "{team}", "PUT", "/teams/{team}", {}, 200),
    ("team", ["team.update"], "other", "PUT", "/teams/{team}", {}, 403),
    ("global", ["team.update"], "", "PUT", "/teams/{team}", {}, 200),
    ("app", ["app.update"], "someapp", "PUT", "/teams/{team}", {}, 403),
    ("team", ["team.read"], "{team}", "GET", "/teams/{team}", None, 403),
    ("global", ["team.read"], "", "GET", "/teams/{team}", None, 200),
    ("team", ["team.delete"], "other", "DELETE", "/teams/{team}", None, 404),
    ("team", ["team.delete"], "{team}", "DELETE", "/teams/{team}", None, 200),
    ("app", ["app.read"], "someapp", "GET", "/teams", None, 204),
    ("pool", ["app"], "somepool", "GET", "/teams", None, 204),
    ("team", ["app.deploy"], "{team}", "GET", "/teams", None, 200),
    ("team", ["team.token.create"], "{team}", "POST", "/tokens", {"team": "{team}"}, 201),
    ("team", ["team.token.create"], "other", "POST", "/tokens", {"team": "{team}"}, 403),
    ("global", ["role.create"], "", "POST", "/roles", {"name": "{new}", "context": "app"}, 201),
    ("team", ["team"], "{team}", "POST", "/roles", {"name": "{new}", "context": "app"}, 403),
    ("global", ["role.update"], "", "GET", "/permissions", None, 200),
    ("team", ["app"], "{team}", "GET", "/permissions", None, 403),
    ("global", ["role.update.assign"], "", "GET", "/roles", None, 200),
    ("pool", ["pool"], "somepool", "GET", "/roles", None, 403),
    ("team", ["team.read.quota"], "{team}", "GET", "/teams/{team}/quota", None, 200),
    ("pool", ["pool"], "somepool", "GET", "/teams/{team}/quota", None, 403),
    ("global", ["user.update.quota"], "", "PUT", "/users/{admin}/quota", {"limit": "-1"}, 200),
    ("user", ["user.update.quota"], "{admin}", "PUT", "/users/{admin}/quota", {"limit": "-1"}, 403),
    ("user", ["user.read.quota"], "{admin}", "GET", "/users/{admin}/quota", None, 200),
    (
        "global",
        ["user.create"],
        "",
        "POST",
        "/users",
        {"email": "{new}@example.com", "password": PASSWORD},
        201,
    ),
    (
        "team",
        ["app"],
        "{team}",
        "POST",
        "/users",
        {"email": "{new}@example.com", "password": PASSWORD},
        401,
    ),
]


@pytest.mark.parametrize(("ctx", "perms", "value", "method", "path", "data", "expected"), MATRIX)
def test_permission_matrix(
    stack: Stack,
    admin_token,
    admin_credentials,
    make_user,
    ctx,
    perms,
    value,
    method,
    path,
    data,
    expected,
) -> None:
    team = new_team(stack, admin_token, "m")
    subs = {"team": team, "new": f"n{secrets.token_hex(4)}", "admin": admin_credentials[0]}
    _, token = make_user((ctx, perms, value.format(**subs)))
    body = {k: v.format(**subs) for k, v in (data or {}).items()}
    resp = requests.request(
        method, stack.url + path.format(**subs), data=body or None, headers=bearer(token)
    )
    assert resp.status_code == expected, resp.text


def test_new_user_can_log_in_and_sees_no_teams(stack: Stack, admin_token) -> None:
    email = f"fresh-{secrets.token_hex(3)}@example.com"
    requests.post(
        f"{stack.url}/users",
        data={"email": email, "password": PASSWORD},
        headers=bearer(admin_token),
    )
    token = login(stack.url, email, PASSWORD)
    assert requests.get(f"{stack.url}/teams", headers=bearer(token)).status_code == 204
