"""Instance failures and instance sets behind a real gateway (fake services).

* An instance killed while it holds a request: an idempotent request is answered by
  another instance, a non-idempotent one gets 502 and is never sent a second time. The
  same when it dies while writing its answer (the head sent, the body cut short): the
  client never sees a connection closed without an answer.
* The launcher's instance registry (TSUBAME_INSTANCES_FILE): the gateway follows it at
  once, acknowledges each generation, sends nothing new to a draining instance.
* Service URLs with a host name are resolved to the instance addresses.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from gateway.tests.harness import GatewayHarness
from shared import instances as registry

pytestmark = pytest.mark.e2e

TOKEN = {"Authorization": "bearer good"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    root = tmp_path_factory.mktemp("gw-failover")
    harness = GatewayHarness(
        root,
        instances={"apps": 2, "catalog": 2},
        env={"TSUBAME_INSTANCES_FILE": str(root / "run" / "instances.json")},
        workers=2,
    )
    with harness:
        yield harness


def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def publish(gateway: GatewayHarness, generation: int, apps: list[tuple[str, str]]) -> Path:
    path = Path(gateway.env["TSUBAME_INSTANCES_FILE"])
    services = {
        ctx: tuple(registry.InstanceRecord(f"{ctx}-{i}", s.url) for i, s in enumerate(found))
        for ctx, found in gateway.services.items()
    }
    services["apps"] = tuple(registry.InstanceRecord(f"apps-{u}", u, st) for u, st in apps)
    registry.write(path, registry.Registry(generation, services))
    return path


def applied_by_every_worker(gateway: GatewayHarness, path: Path, generation: int) -> bool:
    acks = registry.read_acks(path)
    workers = gateway.worker_pids()
    if gateway.front_pid is not None:  # the front forwards too (gateway/front.py)
        workers.append(gateway.front_pid)
    return all(acks.get(pid, -2) >= generation for pid in workers)


def warm_every_worker(gateway: GatewayHarness) -> None:
    # Each worker builds its gateway (and starts following the registry) on its first
    # request; several fresh connections reach both workers (a body header: the front,
    # when there is one, hands them over to the workers).
    for _ in range(20):
        requests.get(gateway.url + "/apps", headers=TOKEN)
        requests.get(gateway.url + "/apps", headers={**TOKEN, "Content-Length": "0"})


class Held:
    """A request sent in a thread until it is held by the instance on ``port``."""

    def __init__(self, gateway: GatewayHarness, method: str, request_id: str, port: int) -> None:
        self.gateway = gateway
        self.marker = gateway.control / f"held-{port}-{request_id}"
        self.request_id = request_id
        self.url = f"{gateway.url}/apps/hold-{request_id}/env"
        self.method = method
        self.response: requests.Response | None = None
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        self.response = requests.request(self.method, self.url, headers=TOKEN, timeout=30)

    def result(self) -> requests.Response:
        self.thread.join(30)
        assert self.response is not None
        return self.response


def hold_on(gateway: GatewayHarness, method: str, prefix: str, port: int) -> Held:
    """Send requests until one is held by the instance on ``port`` (round robin)."""
    for attempt in range(10):
        held = Held(gateway, method, f"{prefix}{attempt}", port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if held.marker.exists():
                return held
            if not held.thread.is_alive():
                break  # answered by the other instance: try again
            time.sleep(0.02)
    raise AssertionError(f"no {method} request reached the instance on port {port}")


def test_instance_killed_holding_requests(gateway: GatewayHarness) -> None:
    publish(gateway, 1, [(s.url, "up") for s in gateway.services["apps"]])
    first, second = gateway.services["apps"]
    control = gateway.control
    (control / f"hold-{first.port}").touch()
    try:
        get = hold_on(gateway, "GET", "get", first.port)
        post = hold_on(gateway, "POST", "post", first.port)
        first.kill()
        answer = get.result()
        assert answer.status_code == 200, answer.text
        assert answer.json()["instance"] == second.port  # sent again, to the live one
        answer = post.result()
        assert answer.status_code == 502
        assert answer.text == "service apps is unavailable\n"
        # The live instance never saw the POST the dead one may have acted on.
        post_id = post.request_id
        assert not (control / f"seen-{second.port}-{post_id}").exists()
        assert (control / f"seen-{first.port}-{post_id}").exists()
    finally:
        (control / f"hold-{first.port}").unlink()
        if not first.proc or first.proc.poll() is not None:
            first.start()


def cut_on(
    gateway: GatewayHarness, method: str, prefix: str, port: int, query: str
) -> tuple[str, requests.Response]:
    """Requests one at a time until one reaches the instance on ``port`` (round robin),
    which dies writing its answer; that request's id and the answer the client got."""
    for attempt in range(10):
        request_id = f"{prefix}{attempt}"
        url = f"{gateway.url}/apps/cut-{request_id}/env?{query}"
        answer = requests.request(method, url, headers=TOKEN, timeout=30)
        if (gateway.control / f"seen-{port}-{request_id}").exists():
            return request_id, answer
    raise AssertionError(f"no {method} request reached the instance on port {port}")


@pytest.mark.parametrize(
    "query",
    ["declared=1000&sent=10", "declared=200000&sent=0"],
    ids=["small-answer-cut-in-its-body", "large-answer-cut-after-its-head"],
)
def test_instance_dying_while_writing_its_answer(gateway: GatewayHarness, query: str) -> None:
    publish(gateway, 5, [(s.url, "up") for s in gateway.services["apps"]])
    first, second = gateway.services["apps"]
    control = gateway.control
    (control / f"cut-{first.port}").touch()
    case = secrets.token_hex(3)  # request ids of this case only
    try:
        _, answer = cut_on(gateway, "GET", f"get-{case}-", first.port, query)
        assert answer.status_code == 200, answer.text
        assert answer.json()["instance"] == second.port  # sent again, to the live one
        first.start()
        post_id, answer = cut_on(gateway, "POST", f"post-{case}-", first.port, query)
        assert answer.status_code == 502
        assert answer.text == "service apps is unavailable\n"
        assert not (control / f"seen-{second.port}-{post_id}").exists()  # never sent twice
    finally:
        (control / f"cut-{first.port}").unlink()
        if not first.proc or first.proc.poll() is not None:
            first.start()


def test_gateway_follows_the_registry_and_acknowledges(gateway: GatewayHarness) -> None:
    first, second = gateway.services["apps"]
    path = publish(gateway, 10, [(first.url, "up"), (second.url, "up")])
    warm_every_worker(gateway)
    eventually(lambda: applied_by_every_worker(gateway, path, 10))

    # Draining: nothing new goes to the first instance, on any worker.
    publish(gateway, 11, [(first.url, "draining"), (second.url, "up")])
    eventually(lambda: applied_by_every_worker(gateway, path, 11), within=2.0)
    seen = {
        requests.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] for _ in range(20)
    }
    assert seen == {second.port}
    health = requests.get(gateway.url + "/healthcheck?check=apps")
    assert health.status_code == 200
    assert f"  {first.url}: WORKING, draining (" in health.text

    # Only the first instance: every request goes there, the second one's pool is closed.
    publish(gateway, 12, [(first.url, "up")])
    eventually(lambda: applied_by_every_worker(gateway, path, 12), within=2.0)
    seen = {
        requests.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] for _ in range(20)
    }
    assert seen == {first.port}
    assert second.url not in requests.get(gateway.url + "/healthcheck?check=apps").text

    # Both again.
    publish(gateway, 13, [(first.url, "up"), (second.url, "up")])
    eventually(lambda: applied_by_every_worker(gateway, path, 13), within=2.0)
    with requests.Session() as http:
        seen = {http.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] for _ in range(8)}
    assert seen == {first.port, second.port}


def test_a_down_instance_is_tried_only_when_none_is_up(gateway: GatewayHarness) -> None:
    first, second = gateway.services["apps"]
    path = publish(gateway, 20, [(first.url, "down"), (second.url, "up")])
    warm_every_worker(gateway)
    eventually(lambda: applied_by_every_worker(gateway, path, 20))
    seen = {
        requests.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] for _ in range(10)
    }
    assert seen == {second.port}
    publish(gateway, 21, [(first.url, "down")])
    eventually(lambda: applied_by_every_worker(gateway, path, 21))
    # The launcher may be late to mark it up again: the instance still gets requests.
    assert requests.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] == first.port
    health = requests.get(gateway.url + "/healthcheck?check=apps")
    assert f"  {first.url}: WORKING, down (" in health.text
    publish(gateway, 22, [(first.url, "up"), (second.url, "up")])
    eventually(lambda: applied_by_every_worker(gateway, path, 22))


def test_an_unreadable_registry_keeps_the_last_set(gateway: GatewayHarness) -> None:
    first, second = gateway.services["apps"]
    path = publish(gateway, 30, [(second.url, "up")])
    warm_every_worker(gateway)
    eventually(lambda: applied_by_every_worker(gateway, path, 30))
    path.write_text('{"generation": "x", "services": [')
    time.sleep(0.5)
    for _ in range(5):
        assert requests.get(gateway.url + "/apps", headers=TOKEN).json()["instance"] == second.port
    publish(gateway, 31, [(first.url, "up"), (second.url, "up")])
    eventually(lambda: applied_by_every_worker(gateway, path, 31))


@pytest.fixture(scope="module")
def named_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(tmp_path_factory.mktemp("gw-names"))
    # The services by name, as docker compose gives them.
    for ctx, found in harness.services.items():
        harness.env[f"TSUBAME_{ctx.upper()}_URLS"] = f"http://localhost:{found[0].port}"
    with harness:
        yield harness


def test_service_names_resolve_to_instance_addresses(named_gateway: GatewayHarness) -> None:
    port = named_gateway.services["apps"][0].port
    resp = requests.get(named_gateway.url + "/apps", headers=TOKEN)
    assert resp.status_code == 200
    assert resp.json()["instance"] == port
    health = requests.get(named_gateway.url + "/healthcheck?check=apps")
    assert health.status_code == 200, health.text
    assert f"  http://127.0.0.1:{port}: WORKING (" in health.text
