"""Users through the gateway: create, bad input, list, info, remove, quota."""

from __future__ import annotations

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import PASSWORD, bearer

pytestmark = pytest.mark.e2e

LENGTH = "password length should be least 6 characters and at most 50 characters"


def user_exists(stack: Stack, admin_token: str, email: str) -> bool:
    found = requests.get(
        f"{stack.url}/users", params={"userEmail": email}, headers=bearer(admin_token)
    )
    return email in [u["Email"] for u in found.json()]


def test_admin_creates_user_and_event_is_recorded(
    stack: Stack, admin_token, recorded_events
) -> None:
    email = "created-by-admin@example.com"
    resp = requests.post(
        f"{stack.url}/users",
        data={"email": email, "password": PASSWORD},
        headers=bearer(admin_token),
    )
    assert (resp.status_code, resp.text) == (201, "")
    assert user_exists(stack, admin_token, email)
    [evt] = recorded_events("user.create", email)
    assert evt["owner"] == {"type": "user", "name": email}
    assert evt["error"] == "" and evt["running"] is False
    assert {"name": "password", "value": "*****"} in evt["startcustomdata"]
    resp = requests.post(
        f"{stack.url}/users",
        data={"email": email, "password": PASSWORD},
        headers=bearer(admin_token),
    )
    assert (resp.status_code, resp.text) == (409, "this email is already registered\n")


@pytest.mark.parametrize(
    ("body", "kind", "status", "message"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "form", 400, "invalid email"),
        ({"email": "UPPER@EXAMPLE.COM", "password": PASSWORD}, "form", 400, "invalid email"),
        ({"email": "short@example.com", "password": "12345"}, "form", 400, LENGTH),
        ({"email": "long@example.com", "password": "x" * 51}, "json", 400, LENGTH),
        ("{not json", "raw", 400, "invalid email"),
    ],
)
def test_bad_input_stores_nothing(stack: Stack, admin_token, body, kind, status, message) -> None:
    headers = bearer(admin_token)
    if kind == "form":
        resp = requests.post(f"{stack.url}/users", data=body, headers=headers)
    elif kind == "json":
        resp = requests.post(f"{stack.url}/users", json=body, headers=headers)
    else:
        resp = requests.post(
            f"{stack.url}/users", data=body, headers={**headers, "Content-Type": "application/json"}
        )
    assert (resp.status_code, resp.text) == (status, message + "\n")
    if isinstance(body, dict):
        assert not user_exists(stack, admin_token, body["email"])


def test_registration_is_for_admins_only(stack: Stack, make_user) -> None:
    _, token = make_user(("team", ["app"], "blue"))
    for headers in ({}, bearer(token)):
        resp = requests.post(
            f"{stack.url}/users",
            data={"email": "sneaky@example.com", "password": PASSWORD},
            headers=headers,
        )
        assert (resp.status_code, resp.text) == (
            401,
            "User registration is disabled for non-admin users.\n",
        )
    _, creator = make_user(("global", ["user.create"], ""))
    resp = requests.post(
        f"{stack.url}/users",
        data={"email": "allowed@example.com", "password": PASSWORD},
        headers=bearer(creator),
    )
    assert resp.status_code == 201


def test_remove_self_and_others(stack: Stack, admin_token, make_user, recorded_events) -> None:
    email, token = make_user()
    other, other_token = make_user()
    resp = requests.delete(f"{stack.url}/users", params={"user": other}, headers=bearer(token))
    assert resp.status_code == 403
    assert requests.delete(f"{stack.url}/users", headers=bearer(token)).status_code == 200
    assert requests.get(f"{stack.url}/users/info", headers=bearer(token)).status_code == 401
    assert not user_exists(stack, admin_token, email)
    assert recorded_events("user.delete", email)[-1]["error"] == ""
    resp = requests.delete(
        f"{stack.url}/users", params={"user": "ghost@example.com"}, headers=bearer(admin_token)
    )
    assert (resp.status_code, resp.text) == (404, "user not found\n")


def test_user_quota(stack: Stack, admin_token, make_user) -> None:
    email, token = make_user()
    resp = requests.get(f"{stack.url}/users/{email}/quota", headers=bearer(token))
    assert (resp.status_code, resp.text) == (200, '{"limit":-1,"inuse":0}\n')
    assert (
        requests.put(
            f"{stack.url}/users/{email}/quota", data={"limit": "2"}, headers=bearer(token)
        ).status_code
        == 403
    )
    assert (
        requests.put(
            f"{stack.url}/users/{email}/quota", data={"limit": "2"}, headers=bearer(admin_token)
        ).status_code
        == 200
    )
    assert requests.get(f"{stack.url}/users/{email}/quota", headers=bearer(token)).json() == {
        "limit": 2,
        "inuse": 0,
    }
    resp = requests.put(
        f"{stack.url}/users/{email}/quota", data={"limit": "two"}, headers=bearer(admin_token)
    )
    assert (resp.status_code, resp.text) == (400, "Invalid limit\n")


def test_list_users_visibility(stack: Stack, admin_token, make_user) -> None:
    member, _ = make_user(("team", ["app.read"], "vis-team"))
    lead, lead_token = make_user(("team", ["app"], "vis-team"))
    listed = [
        u["Email"] for u in requests.get(f"{stack.url}/users", headers=bearer(lead_token)).json()
    ]
    assert member in listed and lead in listed
    everyone = [
        u["Email"] for u in requests.get(f"{stack.url}/users", headers=bearer(admin_token)).json()
    ]
    assert set(listed) < set(everyone)
    resp = requests.get(
        f"{stack.url}/users", params={"role": "nope", "context": "x"}, headers=bearer(lead_token)
    )
    assert (resp.status_code, resp.text) == (404, "Wrong context being passed.\n")
