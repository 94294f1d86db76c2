"""Wire details of the auth audit, through the whole stack (gateway + auth + Mongo)."""

from __future__ import annotations

import secrets

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def test_email_and_token_id_with_trailing_newline_are_invalid(stack: Stack, admin_token) -> None:
    admin = bearer(admin_token)
    email = f"nl{secrets.token_hex(3)}@example.com"
    resp = requests.post(
        f"{stack.url}/users", data={"email": email + "\n", "password": "abcdef"}, headers=admin
    )
    assert (resp.status_code, resp.text) == (400, "invalid email\n")
    team = f"nl{secrets.token_hex(3)}"
    assert requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin).ok
    resp = requests.post(
        f"{stack.url}/tokens", data={"team": team, "token_id": "abc\n"}, headers=admin
    )
    assert (resp.status_code, resp.text) == (400, "invalid token_id\n")


def test_out_of_range_numbers_are_client_errors(stack: Stack, admin_token, make_user) -> None:
    admin = bearer(admin_token)
    email, _ = make_user()
    resp = requests.put(
        f"{stack.url}/users/{email}/quota", data={"limit": "99999999999999999999"}, headers=admin
    )
    assert (resp.status_code, resp.text) == (400, "Invalid limit\n")
    team = f"big{secrets.token_hex(3)}"
    assert requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin).ok
    resp = requests.post(
        f"{stack.url}/tokens",
        data={"team": team, "expires_in": "99999999999999999999"},
        headers=admin,
    )
    assert resp.status_code == 400
    assert resp.text.startswith("unable to decode form: expires_in")


def test_create_team_permission_before_body(stack: Stack, make_user) -> None:
    _, token = make_user()
    resp = requests.post(
        f"{stack.url}/teams",
        data="{broken",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert (resp.status_code, resp.text) == (403, "You don't have permission to do this action\n")


def test_can_use_role_message_names_a_global_value(stack: Stack, admin_token, make_user) -> None:
    admin = bearer(admin_token)
    role = f"g{secrets.token_hex(3)}"
    assert requests.post(
        f"{stack.url}/roles", data={"name": role, "context": "global"}, headers=admin
    ).ok
    assert requests.post(
        f"{stack.url}/roles/{role}/permissions", data={"permission": "app.create"}, headers=admin
    ).ok
    target, _ = make_user()
    _, token = make_user(("global", ["role.update.assign"], ""))
    resp = requests.post(
        f"{stack.url}/roles/{role}/user",
        data={"email": target, "context": "x"},
        headers=bearer(token),
    )
    assert (resp.status_code, resp.text) == (
        403,
        "User not authorized to use permission app.create(global x)\n",
    )
