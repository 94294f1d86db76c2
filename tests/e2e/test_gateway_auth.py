"""Authentication at the gateway, and the routes it answers itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import requests

from gateway.tests.harness import SECRET, GatewayHarness
from shared.bus import Bus
from shared.identity import IDENTITY_HEADER, Identity, sign, token_hash, verify

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    # One worker: one cache, so cache hits and drops are observable.
    harness = GatewayHarness(
        tmp_path_factory.mktemp("gw-auth"),
        env={"TSUBAME_GATEWAY_AUTH_CACHE_SECONDS": "3600"},
        workers=1,
    )
    with harness:
        yield harness


def introspections(gateway: GatewayHarness) -> int:
    auth = gateway.services["auth"][0]
    return int(requests.get(auth.url + "/internal/introspections").text)


def eventually(check: Callable[[], bool], within: float = 20.0) -> bool:
    # Bus delivery is asynchronous: wait for its effect, within a bound.
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_forged_identity_is_stripped(gateway: GatewayHarness) -> None:
    forged = sign(
        Identity(kind="user", name="root@example.com"), SECRET.encode(), method="GET", path="/apps"
    )
    resp = requests.post(gateway.url + "/users", headers={IDENTITY_HEADER: forged}, data="a=1")
    assert resp.status_code == 200
    assert IDENTITY_HEADER.lower() not in resp.json()["headers"]

    resp = requests.get(
        gateway.url + "/apps", headers={IDENTITY_HEADER: forged, "Authorization": "good"}
    )
    identity = verify(
        resp.json()["headers"][IDENTITY_HEADER.lower()], SECRET.encode(), method="GET", path="/apps"
    )
    assert identity.name == "good@example.com"
    assert identity.token_hash == token_hash("good")

    # A forged header alone does not open a protected route.
    resp = requests.get(gateway.url + "/apps", headers={IDENTITY_HEADER: forged})
    assert resp.status_code == 401


def test_unknown_token_is_anonymous(gateway: GatewayHarness) -> None:
    resp = requests.get(gateway.url + "/auth/scheme", headers={"Authorization": "bearer nope"})
    assert resp.json()["service"] == "auth"
    assert IDENTITY_HEADER.lower() not in resp.json()["headers"]
    resp = requests.get(gateway.url + "/apps", headers={"Authorization": "bearer nope"})
    assert resp.status_code == 401
    assert resp.text == "You must provide a valid Authorization header\n"
    # Three parts is no token at all (tsuru's rule).
    resp = requests.get(gateway.url + "/apps", headers={"Authorization": "bearer  good"})
    assert resp.status_code == 401


def test_refusal_text_reaches_the_client_on_every_route(gateway: GatewayHarness) -> None:
    for path in ("/apps", "/auth/scheme", "/healthcheck"):
        resp = requests.get(gateway.url + path, headers={"Authorization": "bearer expired"})
        assert resp.status_code == 401, path
        assert resp.text == "team token expired\n"
        assert resp.headers["Supported-Tsuru"] == "1.0.1"


def test_answers_are_cached_and_dropped_on_revocation(gateway: GatewayHarness) -> None:
    headers = {"Authorization": "bearer good-cache"}
    other = {"Authorization": "bearer good-other"}
    assert requests.get(gateway.url + "/apps", headers=headers).ok
    assert requests.get(gateway.url + "/apps", headers=other).ok
    first = introspections(gateway)
    for _ in range(3):
        assert requests.get(gateway.url + "/apps", headers=headers).ok
        assert requests.get(gateway.url + "/apps", headers=other).ok
    assert introspections(gateway) == first

    bus = Bus("amqp://guest:guest@127.0.0.1:5672/%2F", gateway.namespace)
    try:
        # Published once: the gateway serves only once its queue is bound, so the
        # message is not lost; each message drops the cache once, so a second one
        # still in flight would drop it again under the checks below.
        bus.publish("auth.token.revoked", {"token_hash": token_hash("good-cache")})

        def dropped() -> bool:
            requests.get(gateway.url + "/apps", headers=headers)
            return introspections(gateway) > first

        assert eventually(dropped)
        settled = introspections(gateway)
        assert settled == first + 1
        # Cached again; the other token's entry was never dropped.
        requests.get(gateway.url + "/apps", headers=headers)
        requests.get(gateway.url + "/apps", headers=other)
        assert introspections(gateway) == settled

        # Any other auth message drops every entry.
        bus.publish("auth.identity.changed", {})

        def all_dropped() -> bool:
            requests.get(gateway.url + "/apps", headers=headers)
            return introspections(gateway) > settled

        assert eventually(all_dropped)
        requests.get(gateway.url + "/apps", headers=other)
        assert introspections(gateway) == settled + 2
    finally:
        bus.close()


def test_info_needs_a_token(gateway: GatewayHarness) -> None:
    resp = requests.get(gateway.url + "/1.0/info")
    assert resp.status_code == 401
    resp = requests.get(gateway.url + "/info", headers={"Authorization": "good"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.text == '{"version":"1.11.0"}\n'


def test_debug_needs_the_debug_permission(gateway: GatewayHarness) -> None:
    assert requests.get(gateway.url + "/debug/goroutines").status_code == 401
    resp = requests.get(gateway.url + "/debug/goroutines", headers={"Authorization": "good"})
    assert resp.status_code == 403
    assert resp.text == "You don't have permission to do this action\n"
    resp = requests.get(gateway.url + "/debug/goroutines", headers={"Authorization": "good-debug"})
    assert resp.status_code == 200
    assert "gateway/app.py" in resp.text  # the stack of this very request
    resp = requests.get(gateway.url + "/debug/pprof/heap", headers={"Authorization": "good-debug"})
    assert resp.status_code == 404


def test_index_and_healthcheck_need_no_token(gateway: GatewayHarness) -> None:
    resp = requests.get(gateway.url + "/")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Welcome to tsuru!" in resp.text
    assert "tsuru target-add default" in resp.text
    for path in ("/healthcheck", "/healthcheck/", "/1.0/healthcheck"):
        resp = requests.get(gateway.url + path)
        assert resp.status_code == 200
        assert resp.text == "WORKING"
    resp = requests.get(gateway.url + "/healthcheck?check=all")
    assert resp.status_code == 200
    # A line per service, each followed by an indented line per instance.
    names = [line.split(":")[0] for line in resp.text.splitlines() if not line.startswith(" ")]
    assert names == ["auth", "apps", "catalog", "provisioner", "events", "web"]
    assert all(": WORKING (" in line for line in resp.text.splitlines())
    resp = requests.get(gateway.url + "/healthcheck?check=MongoDB")
    assert resp.text == "WORKING"
