"""Login, logout, API keys and token revocation through the gateway."""

from __future__ import annotations

import pytest
import requests

from scripts.stack import Stack
from shared.identity import IDENTITY_HEADER, Identity, sign
from tests.e2e.conftest import PASSWORD, bearer, login

pytestmark = pytest.mark.e2e


def test_admin_from_admin_txt_can_log_in(stack: Stack, admin_credentials, admin_token) -> None:
    email, _ = admin_credentials
    resp = requests.get(f"{stack.url}/users/info", headers=bearer(admin_token))
    assert resp.status_code == 200
    body = resp.json()
    assert body["Email"] == email
    assert body["Roles"] == [{"Name": "AllowAll", "ContextType": "global", "ContextValue": ""}]
    assert body["Permissions"] == [{"Name": "", "ContextType": "global", "ContextValue": ""}]


def test_login_variants_and_errors(stack: Stack, make_user) -> None:
    email, _ = make_user()
    for path in ("/auth/login", "/1.0/auth/login"):
        resp = requests.post(stack.url + path, json={"email": email, "password": PASSWORD})
        assert resp.status_code == 200 and len(resp.json()["token"]) == 64
    resp = requests.post(f"{stack.url}/users/{email}/tokens", data={"password": PASSWORD})
    assert resp.status_code == 200
    cases = [
        ({"email": email}, 400, "you must provide a password to login"),
        ({"email": "nope", "password": PASSWORD}, 400, "invalid email"),
        ({"email": "x" + email, "password": PASSWORD}, 404, "user not found"),
        (
            {"email": email, "password": "wrong-password"},
            401,
            "Authentication failed, wrong password.",
        ),
    ]
    for data, status, message in cases:
        resp = requests.post(f"{stack.url}/auth/login", data=data)
        assert (resp.status_code, resp.text) == (status, message + "\n")


def test_scheme_and_saml(stack: Stack) -> None:
    resp = requests.get(f"{stack.url}/auth/scheme")
    assert resp.status_code == 200 and resp.json() == {"name": "native", "data": None}
    resp = requests.post(f"{stack.url}/auth/saml")
    assert (resp.status_code, resp.text) == (400, "This URL is only supported with saml enabled\n")


def test_logout_stops_the_token_on_the_next_request(stack: Stack, make_user) -> None:
    email, token = make_user()
    assert requests.get(f"{stack.url}/users/info", headers=bearer(token)).status_code == 200
    resp = requests.delete(f"{stack.url}/users/tokens", headers=bearer(token))
    assert resp.status_code == 200
    resp = requests.get(f"{stack.url}/users/info", headers=bearer(token))
    assert resp.status_code == 401
    assert resp.text == "You must provide a valid Authorization header\n"


def test_regenerated_api_key_stops_the_old_one(stack: Stack, make_user) -> None:
    email, token = make_user()
    key = requests.get(f"{stack.url}/users/api-key", headers=bearer(token)).json()
    assert requests.get(f"{stack.url}/users/api-key", headers=bearer(token)).json() == key
    resp = requests.get(f"{stack.url}/users/info", headers={"Authorization": key})
    assert resp.status_code == 200 and resp.json()["Email"] == email
    new = requests.post(f"{stack.url}/users/api-key", headers=bearer(key)).json()
    assert new != key
    assert requests.get(f"{stack.url}/users/info", headers=bearer(key)).status_code == 401
    assert requests.get(f"{stack.url}/users/info", headers=bearer(new)).status_code == 200


def test_password_change(stack: Stack, make_user) -> None:
    email, token = make_user()
    data = {"old": PASSWORD, "new": "changed-pass", "confirm": "changed-pass"}
    assert (
        requests.put(f"{stack.url}/users/password", data=data, headers=bearer(token)).status_code
        == 200
    )
    assert login(stack.url, email, "changed-pass")
    resp = requests.put(f"{stack.url}/users/password", data=data, headers=bearer(token))
    assert resp.status_code == 403


def test_forged_identity_straight_to_the_auth_service_is_refused(stack: Stack) -> None:
    auth_url = stack.service_urls("auth")[0]
    forged = sign(
        Identity(kind="user", name="root@example.com"),
        b"not-the-stack-secret-at-all",
        method="GET",
        path="/users/info",
    )
    resp = requests.get(f"{auth_url}/users/info", headers={IDENTITY_HEADER: forged})
    assert resp.status_code == 401
    internal = sign(
        Identity(kind="internal", name="gateway"),
        b"not-the-stack-secret-at-all",
        method="POST",
        path="/internal/introspect",
    )
    resp = requests.post(
        f"{auth_url}/internal/introspect", json={"token": "x"}, headers={IDENTITY_HEADER: internal}
    )
    assert resp.status_code == 401
