"""Large grant sets and oversized requests through the gateway (issue 7, item 1).

A user holding a role of every ``app.*`` permission on 15 teams (1,000+ grants)
used to be locked out: the identity header carried every grant and gunicorn
refused it with an HTML 431 on every route. The header now names the subject and
a digest of its grants; services resolve them from the auth service.
"""

from __future__ import annotations

import re
import secrets
import socket

import pytest
import requests

from gateway.routing import load_table
from scripts.stack import Stack
from shared.permissions import tree
from tests.e2e.conftest import MakeUser, bearer

pytestmark = pytest.mark.e2e

APP_PERMISSIONS = sorted(n for n in tree() if n.startswith("app."))
TEAMS = 15
# Statuses that would mean the caller's identity did not get through.
BROKEN = {401, 413, 414, 431, 500, 502, 503, 504}


def concrete(template: str) -> str:
    template = template.replace("{address:.*}", "10.0.0.1:2375")
    return re.sub(r"\{[^}]*\}", "v1", template)


@pytest.fixture(scope="module")
def crowded(make_user: MakeUser) -> tuple[str, str, list[str]]:
    """(email, token, teams) of a user with every app.* permission on 15 teams."""
    teams = [f"many{i:02d}-{secrets.token_hex(2)}" for i in range(TEAMS)]
    email, token = make_user(*[("team", APP_PERMISSIONS, team) for team in teams])
    return email, token, teams


def test_a_thousand_grants_fit(stack: Stack, crowded: tuple[str, str, list[str]]) -> None:
    email, token, teams = crowded
    assert len(APP_PERMISSIONS) * TEAMS >= 1000
    resp = requests.get(f"{stack.url}/users/info", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["Email"] == email
    assert len(body["Permissions"]) == len(APP_PERMISSIONS) * TEAMS
    # The auth service decided with all of them: every team is listed as readable.
    resp = requests.get(f"{stack.url}/teams", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    assert {t["name"] for t in resp.json()} >= set(teams)


def test_every_get_route_accepts_the_crowded_user(
    stack: Stack, crowded: tuple[str, str, list[str]]
) -> None:
    _, token, _ = crowded
    failures = []
    with requests.Session() as http:
        http.headers.update(bearer(token))
        for route in load_table().routes:
            # The dashboard's pages are HTML by design and use its own session cookie.
            if route.method != "GET" or route.owner in ("gateway", "web"):
                continue
            resp = http.get(stack.url + concrete(route.template), timeout=30)
            if resp.status_code in BROKEN or resp.text.lstrip().startswith("<"):
                failures.append((route.template, resp.status_code, resp.text[:80]))
    assert failures == []


def test_permissions_are_still_checked_with_resolved_grants(
    stack: Stack, crowded: tuple[str, str, list[str]]
) -> None:
    _, token, _ = crowded
    # No team.create among app.* permissions: refused by the permission check.
    resp = requests.post(f"{stack.url}/teams", data={"name": "nope-x"}, headers=bearer(token))
    assert (resp.status_code, resp.text) == (403, "You don't have permission to do this action\n")


def test_context_values_are_bounded(stack: Stack, admin_token: str, make_user: MakeUser) -> None:
    # One long context value used to lock its holder out of every route.
    victim, victim_token = make_user()
    admin = bearer(admin_token)
    role = f"long-{secrets.token_hex(3)}"
    assert requests.post(
        f"{stack.url}/roles", data={"name": role, "context": "app"}, headers=admin
    ).ok
    for value in ("x" * 10_000, "two words", "tab\there"):
        resp = requests.post(
            f"{stack.url}/roles/{role}/user",
            data={"email": victim, "context": value},
            headers=admin,
        )
        assert resp.status_code == 400, value[:20]
        assert resp.text.startswith("invalid context value: ")
    resp = requests.post(
        f"{stack.url}/roles/{role}/user", data={"email": victim, "context": "ghost"}, headers=admin
    )
    assert resp.status_code == 200  # apps belong to another context: shape only
    team_role = f"team-{secrets.token_hex(3)}"
    assert requests.post(
        f"{stack.url}/roles", data={"name": team_role, "context": "team"}, headers=admin
    ).ok
    resp = requests.post(
        f"{stack.url}/roles/{team_role}/user",
        data={"email": victim, "context": "no-such-team"},
        headers=admin,
    )
    assert (resp.status_code, resp.text) == (404, "team not found\n")
    assert requests.get(f"{stack.url}/users/info", headers=bearer(victim_token)).ok


def _raw(stack: Stack, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes,status",
    [
        (b"GET /apps HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n", b"431"),
        (b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
        (b"GET /apps HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", b"400"),
    ],
    ids=["header-too-large", "line-too-long", "bad-header-name"],
)
def test_refusals_by_the_http_server_are_plain_text(
    stack: Stack, request_bytes: bytes, status: bytes
) -> None:
    answer = _raw(stack, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 " + status), head[:80]
    assert b"content-type: text/plain; charset=utf-8" in head.lower()
    assert b"<" not in body
