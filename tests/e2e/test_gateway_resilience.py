"""Dead, restarted, slow and multiple service instances behind a real gateway."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.tests.harness import GatewayHarness

pytestmark = pytest.mark.e2e

TOKEN = {"Authorization": "bearer good"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(
        tmp_path_factory.mktemp("gw-resilience"),
        instances={"apps": 2},
        env={"TSUBAME_GATEWAY_TIMEOUT": "1", "TSUBAME_APPS_DOMAIN": "apps.example.com"},
        workers=2,
    )
    harness.route_sample_apps()
    with harness:
        yield harness


def test_killed_service_answers_502_others_keep_working_restart_recovers(
    gateway: GatewayHarness,
) -> None:
    url = gateway.url
    assert requests.get(url + "/services", headers=TOKEN).json()["service"] == "catalog"

    gateway.kill_service("catalog")
    for _ in range(4):  # both workers, both fresh and pooled connections
        resp = requests.get(url + "/1.0/services", headers=TOKEN)
        assert resp.status_code == 502
        assert resp.text == "service catalog is unavailable\n"
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert resp.headers["Supported-Tsuru"] == "1.0.1"
        assert requests.get(url + "/pools", headers=TOKEN).json()["service"] == "provisioner"
        assert requests.get(url + "/events", headers=TOKEN).json()["service"] == "events"
    assert requests.get(url + "/healthcheck").text == "WORKING"
    health = requests.get(url + "/healthcheck?check=catalog&check=events")
    assert health.status_code == 500
    # One line per service, each followed by indented lines for its instances.
    lines = [line for line in health.text.splitlines() if not line.startswith(" ")]
    assert lines[0].startswith("catalog: fail - ")
    assert lines[1].startswith("events: WORKING (")

    gateway.start_service("catalog")
    for _ in range(4):
        assert requests.get(url + "/services", headers=TOKEN).json()["service"] == "catalog"
    assert requests.get(url + "/healthcheck?check=all").status_code == 200


def test_requests_go_round_robin_and_skip_a_dead_instance(gateway: GatewayHarness) -> None:
    ports = {s.port for s in gateway.services["apps"]}
    with requests.Session() as http:  # one connection: one worker sees every request
        seen = {http.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] for _ in range(6)}
        assert seen == ports

        gateway.kill_service("apps", 0)
        alive = gateway.services["apps"][1].port
        for _ in range(6):
            resp = http.post(gateway.url + "/apps", headers=TOKEN, data={"name": "x"})
            assert resp.status_code == 200
            assert resp.json()["instance"] == alive
            assert resp.json()["body_length"] == len("name=x")

        gateway.kill_service("apps", 1)
        resp = http.get(gateway.url + "/apps", headers=TOKEN)
        assert resp.status_code == 502
        assert resp.text == "service apps is unavailable\n"

        gateway.start_service("apps")
        seen = {http.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] for _ in range(6)}
        assert seen == ports


def test_auth_down_with_a_token_is_503_never_401(gateway: GatewayHarness) -> None:
    # A client told 401 throws its user back to login; the token may well be valid.
    gateway.kill_service("auth")
    try:
        resp = requests.get(gateway.url + "/apps", headers={"Authorization": "bearer good-new"})
        assert resp.status_code == 503
        assert resp.text == "the auth service is unavailable, try again later\n"
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        # Without a token nothing needs the auth service.
        assert requests.get(gateway.url + "/apps").status_code == 401
        assert requests.get(gateway.url + "/healthcheck").status_code == 200
    finally:
        gateway.start_service("auth")
    assert requests.get(gateway.url + "/apps", headers={"Authorization": "good-new"}).ok


def test_slow_upstream_is_504(gateway: GatewayHarness) -> None:
    resp = requests.get(gateway.url + "/apps/sleeper/env", headers=TOKEN)
    assert resp.status_code == 504
    assert resp.text == "service apps did not answer in time\n"
    # A token the auth service cannot judge in time: unavailable, not anonymous.
    resp = requests.get(gateway.url + "/apps", headers={"Authorization": "slow"})
    assert resp.status_code == 503
    assert resp.text == "the auth service is unavailable, try again later\n"


def test_application_hosts_go_to_the_apps_units(gateway: GatewayHarness) -> None:
    forged = {"X-Tsubame-Identity": "forged", "X-Forwarded-Proto": "ftp", "Authorization": "a"}
    for host in ("myapp.apps.example.com:8080", "WWW.myapp.com"):
        resp = requests.get(gateway.url + "/some/path?q=1", headers={"Host": host, **forged})
        assert resp.status_code == 200, resp.text
        seen = resp.json()
        assert (seen["service"], seen["path"], seen["query"]) == ("events", "/some/path", "q=1")
        headers = seen["headers"]
        assert headers["host"] == host and headers["x-forwarded-host"] == host
        assert headers["x-forwarded-proto"] == "http" and headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["authorization"] == "a"  # the app's own business
        assert not [h for h in headers if h.startswith("x-tsubame")]
        assert "supported-tsuru" not in {h.lower() for h in resp.headers}
    resp = requests.get(gateway.url + "/", headers={"Host": "idle.apps.example.com"})
    assert (resp.status_code, resp.text) == (503, 'app "idle" is asleep\n')
    resp = requests.get(gateway.url + "/", headers={"Host": "nobody.apps.example.com"})
    assert (resp.status_code, resp.text) == (404, "no app is routed at this address\n")
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    resp = requests.get(gateway.url + "/", headers={"Host": "apps.example.com"})
    assert resp.status_code == 200
    assert "Welcome to tsuru!" in resp.text


def _counts(gateway: GatewayHarness) -> dict[str, int]:
    """``tsubame_gateway_requests_total`` by ``service,code`` summed over instances."""
    body = requests.get(gateway.url + "/metrics").text
    assert "# TYPE tsubame_gateway_requests_total counter" in body
    found: dict[str, int] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == "tsubame_gateway_requests_total":
                key = f"{s.labels['service']},{s.labels['code']}"
                found[key] = found.get(key, 0) + int(s.value)
    return found


def _eventually(check: Callable[[], bool], within: float = 10.0) -> bool:
    # A scrape reads every worker's counters at once; the bound is for a slow machine.
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_metrics_count_by_service_and_status(gateway: GatewayHarness) -> None:
    ok, unauthorized, not_found = "events,200", "events,401", "none,404"
    before = _counts(gateway)
    for _ in range(3):  # several connections: both workers count
        requests.get(gateway.url + "/events", headers=TOKEN)
        requests.get(gateway.url + "/events")
        requests.get(gateway.url + "/nowhere")
    assert _eventually(
        lambda: all(
            _counts(gateway).get(key, 0) >= before.get(key, 0) + 3
            for key in (ok, unauthorized, not_found)
        )
    )
