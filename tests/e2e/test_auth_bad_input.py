"""Malformed and invalid input through the gateway: 400/404 and nothing stored."""

from __future__ import annotations

import secrets

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def test_team_token_bad_form_and_json(stack: Stack, admin_token) -> None:
    admin = bearer(admin_token)
    team = f"bad{secrets.token_hex(4)}"
    assert (
        requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin).status_code == 201
    )
    resp = requests.post(
        f"{stack.url}/tokens",
        data={"team": team, "expires_in": "soon", "token_id": f"{team}-x"},
        headers=admin,
    )
    assert resp.status_code == 400 and resp.text.startswith("unable to decode form")
    resp = requests.post(
        f"{stack.url}/tokens",
        data='{"team": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and resp.text.startswith("unable to parse as json")
    resp = requests.put(f"{stack.url}/tokens/{team}-x", data={"regenerate": "maybe"}, headers=admin)
    assert resp.status_code == 400
    assert requests.get(f"{stack.url}/tokens/{team}-x", headers=admin).status_code == 404


def test_unknown_roles_and_permissions(stack: Stack, admin_token, admin_credentials) -> None:
    admin = bearer(admin_token)
    email = admin_credentials[0]
    cases = [
        (
            "POST",
            "/roles/no-such-role/user",
            {"email": email, "context": "x"},
            404,
            "role not found",
        ),
        ("POST", "/roles/no-such-role/permissions", {"permission": "app"}, 404, "role not found"),
        ("GET", "/roles/no-such-role", None, 404, "role not found"),
        ("DELETE", "/roles/no-such-role", None, 404, "role not found"),
        ("POST", "/role/default", {"user-create": "no-such-role"}, 400, "role not found"),
        ("PUT", "/roles", {"name": "no-such-role", "description": "x"}, 400, "role not found"),
        ("POST", "/roles/AllowAll/user", {"email": "not-an-email"}, 400, "invalid email"),
    ]
    for method, path, data, status, message in cases:
        resp = requests.request(method, stack.url + path, data=data, headers=admin)
        assert (resp.status_code, resp.text) == (status, message + "\n"), path
    role = f"r{secrets.token_hex(3)}"
    assert (
        requests.post(
            f"{stack.url}/roles", data={"name": role, "context": "app"}, headers=admin
        ).status_code
        == 201
    )
    resp = requests.post(
        f"{stack.url}/roles/{role}/permissions",
        data={"permission": ["app.read", ""]},
        headers=admin,
    )
    assert (resp.status_code, resp.text) == (400, "invalid permission name\n")
    resp = requests.post(
        f"{stack.url}/roles/{role}/permissions",
        data={"permission": ["app.read", "app.create"]},
        headers=admin,
    )
    assert resp.status_code == 409
    assert "scheme_names" not in requests.get(f"{stack.url}/roles/{role}", headers=admin).json()


def test_quota_and_limits(stack: Stack, admin_token) -> None:
    admin = bearer(admin_token)
    resp = requests.put(f"{stack.url}/teams/no-such-team/quota", data={"limit": "1"}, headers=admin)
    assert (resp.status_code, resp.text) == (404, "team not found\n")
    resp = requests.get(f"{stack.url}/users/not-an-email/quota", headers=admin)
    assert (resp.status_code, resp.text) == (400, "invalid email\n")
