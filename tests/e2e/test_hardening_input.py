"""Hostile bodies, lock races and the smaller items of issue 7, through the gateway.

Before: deep JSON, lone surrogates and 17-50 MB fields reached 500 with a
traceback (anonymously, on public routes); lock conflicts answered 500; a skip
past int64 answered 500; ``/%31.0/...`` was forwarded undecoded; a cached token
outlived its expiry; a captured identity header was good for any route for 300 s.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import time
from pathlib import Path

import pytest
import requests

from scripts.stack import Stack
from shared.identity import IDENTITY_HEADER, Identity, internal_identity, sign
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

TOO_LARGE = "request body too large: this route accepts at most 1048576 bytes\n"


def _is_plain(resp: requests.Response) -> None:
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Traceback" not in resp.text and "<html" not in resp.text.lower()


def _new_team(stack: Stack, admin: dict[str, str]) -> str:
    name = f"h{secrets.token_hex(4)}"
    assert requests.post(f"{stack.url}/teams", data={"name": name}, headers=admin).ok
    return name


# -- item 5: hostile bodies ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["[" * 1500 + "]" * 1500, '{"email":' * 200 + '"x"' + "}" * 200, '{"email": "\\ud800"}'],
    ids=["nested-1500", "nested-200", "lone-surrogate"],
)
def test_hostile_json_on_a_public_route_is_400(stack: Stack, body: str) -> None:
    resp = requests.post(
        f"{stack.url}/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400, resp.text
    assert resp.text.startswith("unable to parse as json: ")
    _is_plain(resp)


def test_hostile_json_stores_nothing(stack: Stack, admin_token: str, recorded_events) -> None:
    admin = bearer(admin_token)
    name = f"s{secrets.token_hex(3)}"
    for body in (
        '{"name": "' + name + '\\ud800"}',
        '{"name": "' + name + '", "x":' + "[" * 300 + "]" * 300 + "}",
    ):
        resp = requests.post(
            f"{stack.url}/teams", data=body, headers={**admin, "Content-Type": "application/json"}
        )
        assert resp.status_code == 400, resp.text
        _is_plain(resp)
    assert requests.get(f"{stack.url}/teams/{name}", headers=admin).status_code == 404
    assert recorded_events("team.create", name) == []


@pytest.mark.parametrize("value", ["%ff", "%ed%a0%80", "ok%c3%28"])
def test_invalid_utf8_form_is_400(stack: Stack, admin_token: str, value: str) -> None:
    resp = requests.post(
        f"{stack.url}/teams",
        data=f"name={value}",
        headers={**bearer(admin_token), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (resp.status_code, resp.text) == (400, "invalid request: text must be valid UTF-8\n")


def test_huge_anonymous_body_is_413_unread(stack: Stack) -> None:
    # 17 MB: refused from its Content-Length, the connection closed after the answer.
    body = b"email=a%40b.c&password=" + b"x" * (17 * 1024 * 1024)
    resp = requests.post(
        f"{stack.url}/auth/login",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (resp.status_code, resp.text) == (413, TOO_LARGE)
    _is_plain(resp)


def test_huge_chunked_body_is_413(stack: Stack, admin_token: str) -> None:
    def chunks():
        for _ in range(40):
            yield b"x" * (64 * 1024)

    resp = requests.post(
        f"{stack.url}/teams",
        data=chunks(),
        headers={**bearer(admin_token), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (resp.status_code, resp.text) == (413, TOO_LARGE)


def test_services_enforce_the_limit_too(stack: Stack) -> None:
    # Straight at the auth service (as a process inside the network could).
    auth = stack.service_urls("auth")[0]
    resp = requests.post(
        f"{auth}/auth/login",
        data=b"email=" + b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (resp.status_code, resp.text) == (413, TOO_LARGE)


def test_upload_routes_take_large_bodies(stack: Stack, admin_token: str) -> None:
    # 5 MB deploy archive: past the gateway's limit to the apps service, which answers
    # for the app (absent here) rather than the gateway refusing the size.
    resp = requests.post(
        f"{stack.url}/apps/myapp/deploy",
        files={"file": ("app.tar.gz", b"\0" * (5 * 1024 * 1024))},
        headers=bearer(admin_token),
    )
    assert (resp.status_code, resp.text) == (404, "App not found\n"), resp.text


# -- item 6: lock conflicts -----------------------------------------------------------


def test_lock_race_losers_get_409(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    name = f"race{secrets.token_hex(3)}"
    answers: list[tuple[int, str]] = []
    start = threading.Barrier(20)

    def create() -> None:
        start.wait()
        resp = requests.post(f"{stack.url}/teams", data={"name": name}, headers=admin)
        answers.append((resp.status_code, resp.text))

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in answers].count(201) == 1
    for status, text in answers:
        if status == 201:
            continue
        assert status == 409, text
        assert text == "team already exists\n" or text.startswith(f"event locked: team({name})")


# -- item 7: smaller ones ------------------------------------------------------------


@pytest.mark.parametrize(
    "skip,status", [("9223372036854775808", 400), ("99999999999999999999", 400), ("-1", None)]
)
def test_events_skip_out_of_range(stack: Stack, admin_token: str, skip: str, status) -> None:
    resp = requests.get(f"{stack.url}/events", params={"skip": skip}, headers=bearer(admin_token))
    if status is None:
        assert resp.status_code in (200, 204)
    else:
        assert resp.status_code == status
        assert resp.text.startswith("unable to decode form: ")


def test_events_skip_at_int64_max_is_empty(stack: Stack, admin_token: str) -> None:
    resp = requests.get(
        f"{stack.url}/events", params={"skip": "9223372036854775807"}, headers=bearer(admin_token)
    )
    assert resp.status_code in (200, 204), resp.text


def test_percent_encoded_version_prefix_routes_and_forwards_the_same_path(
    stack: Stack, admin_token: str
) -> None:
    admin = bearer(admin_token)
    team = _new_team(stack, admin)
    for prefix in ("/%31.0", "/1%2E0", "/1.0"):
        resp = requests.get(f"{stack.url}{prefix}/teams/{team}", headers=admin)
        assert resp.status_code == 200, (prefix, resp.text)
        assert resp.json()["name"] == team
    # A segment that only decodes to a version plus more is not a version prefix.
    resp = requests.get(f"{stack.url}/1.0%2Fteams/{team}", headers=admin)
    assert resp.status_code == 404


def test_cached_team_token_never_outlives_its_expiry(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    team = _new_team(stack, admin)
    resp = requests.post(
        f"{stack.url}/tokens",
        data={"team": team, "token_id": f"short-{team}", "expires_in": "3"},
        headers=admin,
    )
    assert resp.status_code == 201, resp.text
    value = resp.json()["token"]
    created = time.monotonic()
    assert requests.get(f"{stack.url}/teams", headers=bearer(value)).status_code == 204
    time.sleep(max(0.0, 3.5 - (time.monotonic() - created)))
    # Within the gateway's 5 s cache, but past the token's end.
    resp = requests.get(f"{stack.url}/teams", headers=bearer(value))
    assert (resp.status_code, resp.text) == (401, "team token expired\n")


def _secret(stack: Stack) -> bytes:
    return (Path(stack.data_dir) / "identity_secret").read_text().strip().encode()


def test_identity_header_is_good_for_its_request_only(stack: Stack, admin_token: str) -> None:
    auth = stack.service_urls("auth")[0]
    admin = requests.get(f"{stack.url}/users/info", headers=bearer(admin_token)).json()
    who = Identity(kind="user", name=admin["Email"], email=admin["Email"], token_kind="session")
    header = sign(who, _secret(stack), method="GET", path="/users/info")
    assert requests.get(f"{auth}/users/info", headers={IDENTITY_HEADER: header}).ok
    # Replayed on another route or method of the service: refused.
    for method, path in (("GET", "/teams"), ("DELETE", "/users"), ("POST", "/users/info")):
        resp = requests.request(method, auth + path, headers={IDENTITY_HEADER: header})
        assert resp.status_code == 401, (method, path)
    # Replayed later than its short life: refused.
    old = sign(who, _secret(stack), method="GET", path="/users/info", now=time.time() - 20)
    assert requests.get(f"{auth}/users/info", headers={IDENTITY_HEADER: old}).status_code == 401
    internal = sign(internal_identity("gateway"), _secret(stack), method="GET", path="/x")
    resp = requests.post(
        f"{auth}/internal/introspect",
        json={"token": admin_token},
        headers={IDENTITY_HEADER: internal},
    )
    assert resp.status_code == 401


def test_refused_body_closes_the_connection(stack: Stack) -> None:
    # The rest of a refused body is never read: the gateway says so and closes.
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/auth/login",
            body=b"x" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        resp = conn.getresponse()
        assert resp.status == 413
        assert resp.getheader("Connection") == "close"
        assert resp.read().decode() == TOO_LARGE
    finally:
        conn.close()
