"""The gateway in front of the real services (the session ``stack``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests

from gateway.tools import build_routes
from scripts.stack import Stack

pytestmark = pytest.mark.e2e

SEED = build_routes.parse_seed(build_routes.DEFAULT_SEED.read_text())


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def concrete(template: str) -> str:
    template = build_routes.normalize(template)
    template = template.replace("{address:.*}", "http://10.0.0.1:2375")
    template = template.replace("{provisioner}", "swarm")
    return re.sub(r"\{[^}]*\}", "v1", template)


def admin_token(stack: Stack, http: requests.Session) -> str:
    fields = dict(
        line.split("=", 1) for line in (stack.data_dir / "admin.txt").read_text().splitlines()
    )
    resp = http.post(
        stack.url + "/1.0/auth/login",
        data={"email": fields["email"], "password": fields["password"]},
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


@pytest.mark.parametrize("prefix", ["", "/1.0"])
@pytest.mark.parametrize("entry", SEED, ids=lambda e: f"{e.method} {e.template}")
def test_seed_route_without_token(
    stack: Stack, http: requests.Session, entry: build_routes.SourceRoute, prefix: str
) -> None:
    resp = http.request(entry.method, stack.url + prefix + concrete(entry.template))
    assert resp.headers["Supported-Tsuru"] == "1.0.1"
    if (entry.method, build_routes.normalize(entry.template)) in build_routes.PUBLIC:
        # Reached its service: whatever it answers, it is not the gateway's refusal (the
        # service may refuse by itself: registration disabled is a 401 in tsuru too).
        assert resp.text != "You must provide a valid Authorization header\n"
        assert resp.text != "404 page not found\n"
        assert resp.status_code not in (502, 504), resp.text
    else:
        assert resp.status_code == 401, resp.text
        assert resp.text == "You must provide a valid Authorization header\n"
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="tsuru" scope="tsuru"'


def test_login_through_the_gateway_and_logout(stack: Stack, http: requests.Session) -> None:
    token = admin_token(stack, http)
    auth = {"Authorization": f"bearer {token}"}
    resp = http.get(stack.url + "/users/info", headers=auth)
    assert resp.status_code == 200, resp.text
    assert (
        resp.json()["Email"]
        == stack.data_dir.joinpath("admin.txt").read_text().split("\n")[0].split("=", 1)[1]
    )
    assert http.get(stack.url + "/1.0/info", headers=auth).json() == {"version": "1.11.0"}

    assert http.delete(stack.url + "/users/tokens", headers=auth).status_code == 200
    # The gateway's cache forgets the token on the auth service's bus message (or at
    # the latest when the cache entry expires).
    deadline = time.monotonic() + 30
    while http.get(stack.url + "/users/info", headers=auth).status_code != 401:
        assert time.monotonic() < deadline, "logged-out token still accepted"
        time.sleep(0.2)


def test_killed_service_answers_502_until_restarted(
    live_stack: Stack, http: requests.Session
) -> None:
    auth = {"Authorization": f"bearer {admin_token(live_stack, http)}"}
    live_stack.kill_service("events")
    resp = http.get(live_stack.url + "/events", headers=auth)
    assert resp.status_code == 502
    assert resp.text == "service events is unavailable\n"
    assert http.get(live_stack.url + "/users/info", headers=auth).status_code == 200
    assert http.get(live_stack.url + "/auth/scheme").status_code == 200

    live_stack.start_service("events")
    resp = http.get(live_stack.url + "/events", headers=auth)
    assert resp.status_code not in (502, 504), resp.text
