"""Request ids, log formats and metrics, through the gateway.

* A request's ``X-Request-Id`` (or a new id) is answered to the client and shows in
  the log lines of the service that handled it and of the worker that handled the bus
  message it caused.
* ``TSUBAME_LOG_FORMAT=json``: every log line of every process parses as JSON.
* The gateway's ``/metrics`` lists each instance of a scaled service.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from scripts.stack import Stack
from tests.e2e.conftest import _admin_credentials, bearer, login

pytestmark = pytest.mark.e2e

FIELDS = {"time", "level", "logger", "message", "request_id", "service"}


def _eventually(check: Callable[[], bool], within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _logs(stack: Stack, prefix: str) -> str:
    """Every log of the processes named ``prefix``, ``prefix-2`` ..."""
    return "".join(
        p.read_text(errors="replace")
        for p in sorted(stack.logs_dir.glob(f"{prefix}*.log"))
        if p.stem == prefix or p.stem[len(prefix) + 1 :].isdigit()
    )


def _remove_team_under(url: str, token: str, rid: str) -> str:
    """Create and remove a team, the removal sent with ``rid``; the team's name."""
    team = f"obs{secrets.token_hex(4)}"
    resp = requests.post(f"{url}/teams", data={"name": team}, headers=bearer(token))
    assert resp.status_code == 201, resp.text
    resp = requests.delete(f"{url}/teams/{team}", headers={**bearer(token), "X-Request-Id": rid})
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Request-Id"] == rid
    return team


def test_the_request_id_reaches_the_service_and_the_workers_logs(
    stack: Stack, admin_token: str
) -> None:
    rid = f"abc-{secrets.token_hex(6)}"
    team = _remove_team_under(stack.url, admin_token, rid)
    # The auth service answered it; the event it recorded was published with the id
    # and the events worker handled that message under it.
    assert _eventually(lambda: f"[{rid}] DELETE /teams/{team} 200" in _logs(stack, "auth"))
    assert _eventually(
        lambda: any(
            f"[{rid}]" in line and "handled events.event.finished" in line
            for line in _logs(stack, "events-worker").splitlines()
        )
    ), _logs(stack, "events-worker")[-2000:]


def test_a_client_id_is_sanitised_and_a_missing_one_made(stack: Stack) -> None:
    resp = requests.get(f"{stack.url}/auth/scheme", headers={"X-Request-Id": 'my id "<x>";'})
    assert resp.headers["X-Request-Id"] == "myidx"
    resp = requests.get(f"{stack.url}/auth/scheme", headers={"X-Request-Id": "y" * 500})
    assert resp.headers["X-Request-Id"] == "y" * 128
    one = requests.get(f"{stack.url}/auth/scheme").headers["X-Request-Id"]
    two = requests.get(f"{stack.url}/nowhere").headers["X-Request-Id"]  # the gateway's 404
    assert len(one) == len(two) == 32 and one != two
    # One header, not the service's echo beside the gateway's.
    resp = requests.get(f"{stack.url}/auth/scheme", headers={"X-Request-Id": "once"})
    assert resp.raw.headers.getlist("X-Request-Id") == ["once"]


def _samples(body: str, name: str, **labels: str) -> dict[str, float]:
    """Values of ``name`` samples with ``labels``, by instance."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                found[s.labels["instance"]] = found.get(s.labels["instance"], 0) + s.value
    return found


def test_json_logs_and_metrics_of_each_instance(
    tmp_path_factory: pytest.TempPathFactory, namespace: str
) -> None:
    overrides = {
        "TSUBAME_NAMESPACE": f"{namespace}_obs",
        "TSUBAME_WORKERS": "2",  # two gunicorn workers per instance: both are summed
        "TSUBAME_MONGO_URL": "",
        "TSUBAME_LOG_FORMAT": "json",
    }
    stack = Stack(
        tmp_path_factory.mktemp("obs"), port=None, env_overrides=overrides, instances={"auth": 2}
    )
    stack.start()
    try:
        auth_urls = stack.service_urls("auth")
        token = login(stack.url, *_admin_credentials(Path(stack.data_dir)))
        rid = f"json-{secrets.token_hex(6)}"
        _remove_team_under(stack.url, token, rid)
        for _ in range(12):  # round robin: both auth instances answer some
            resp = requests.get(f"{stack.url}/teams", headers=bearer(token))
            assert resp.status_code == 204  # no team left

        body = requests.get(f"{stack.url}/metrics").text
        teams = _samples(
            body,
            "tsubame_http_request_duration_seconds_count",
            service="auth",
            route="/teams",
            method="GET",
        )
        assert set(teams) == set(auth_urls) and all(v > 0 for v in teams.values()), teams
        assert sum(teams.values()) >= 12
        slowest = _samples(
            body, "tsubame_http_request_duration_seconds_bucket", route="/teams", le="+Inf"
        )
        assert set(slowest) == set(auth_urls)
        up = _samples(body, "tsubame_scrape_up", service="auth")
        assert up == dict.fromkeys(auth_urls, 1.0)
        assert _samples(body, "tsubame_scrape_up", service="events") == {
            stack.service_urls("events")[0]: 1.0
        }
        gateway = _samples(body, "tsubame_gateway_requests_total", service="auth", code="204")
        assert list(gateway) == ["gateway"] and gateway["gateway"] >= 12

        health = requests.get(f"{stack.url}/healthcheck?check=all")
        assert health.status_code == 200
        for url in auth_urls:
            assert f"  {url}: WORKING" in health.text

        def worker_saw_it() -> bool:
            lines = _logs(stack, "events-worker").splitlines()
            return any(json.loads(line)["request_id"] == rid for line in lines)

        assert _eventually(worker_saw_it)
    finally:
        stack.stop()

    # Every line of every process's log (after the stop: the shutdown lines too).
    seen: dict[str, set[str | None]] = {}
    services: set[str] = set()
    for path in sorted(stack.logs_dir.glob("*.log")):
        if path.name == "mongo.log":
            continue  # the database server's own output
        lines = path.read_text().splitlines()
        assert lines, path.name
        for n, line in enumerate(lines, 1):
            try:
                data = json.loads(line)
            except ValueError:
                pytest.fail(f"{path.name}:{n} is not JSON: {line[:300]!r}")
            assert FIELDS <= set(data), f"{path.name}:{n}: {line[:300]}"
            seen.setdefault(path.stem, set()).add(data["request_id"])
            services.add(data["service"])
    assert {"auth", "auth-2", "events-worker", "gateway"} <= set(seen)
    # The launcher's line heading each process's log; services and workers by name.
    assert {"launcher", "auth", "auth-worker", "events-worker", "gateway", "web"} <= services
    assert rid in seen["auth"] | seen["auth-2"]
    assert rid in seen["events-worker"]
