"""The catalog through the gateway against a real service API on 127.0.0.1: a
service and its instance from creation to removal, the proxies, the team-usage
question of the auth context, a down or slow service API (catalog.md)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from scripts.stack import Stack
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.e2e.catalog_helpers import instance, messages, service, team
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


@pytest.fixture
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


def test_service_and_instance_lifecycle(
    stack: Stack, admin_token: str, api: FakeServiceApi, make_user
) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    _, dev = make_user(("team", ["service-instance", "service.read", "service.update"], owner))
    h, url = bearer(dev), stack.url
    assert requests.put(f"{url}/1.0/services/{svc}/doc", data={"doc": "Use it."},
                        headers=h).status_code == 200  # fmt: skip
    assert requests.get(f"{url}/services/{svc}/doc", headers=h).text == "Use it."
    assert requests.get(f"{url}/services/{svc}/plans", headers=h).json() == [
        {"Name": "small", "Description": "1 cpu"}
    ]
    name = instance(stack, dev, svc, owner, plan="small", tag="prod", description="main")
    created = api.calls("POST", "/resources")[-1]
    assert created.field("name") == [name] and created.field("team") == [owner]
    assert created.field("plan") == ["small"] and created.field("tags") == ["prod"]
    assert created.headers["Authorization"].startswith("Basic ")

    listed = requests.get(f"{url}/services", headers=h).json()
    mine = next(s for s in listed if s["service"] == svc)
    assert mine["instances"] == [name] and mine["plans"] is None

    info = requests.get(f"{url}/services/{svc}/instances/{name}", headers=h)
    assert info.json()["PlanDescription"] == "1 cpu"
    assert info.json()["CustomInfo"] == {"Address": "a"}
    status = requests.get(f"{url}/services/{svc}/instances/{name}/status", headers=h)
    assert status.text == f'Service instance "{name}" is up'

    update = {"description": "new", "teamowner": owner, "plan": "small", "tag": "prod"}
    resp = requests.put(f"{url}/services/{svc}/instances/{name}", data=update, headers=h)
    assert resp.status_code == 200, resp.text
    assert api.calls("PUT", f"/resources/{name}")[-1].field("description") == ["new"]

    # The instance proxy: tsuru's path rules, the body and the answer unchanged.
    resp = requests.post(f"{url}/services/{svc}/proxy/{name}?callback=/resources/{name}/backup&x=1",
                         data=b"raw-bytes", headers={**h, "Content-Type": "application/octet-stream"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    echo = resp.json()
    assert (echo["path"], echo["query"], echo["body"]) == (
        f"/resources/{name}/backup",
        "x=1",
        "raw-bytes",
    )
    assert echo["headers"]["X-Tsuru-User"].endswith("@example.com")
    assert "X-Tsubame-Identity" not in echo["headers"]
    resp = requests.post(f"{url}/services/{svc}/proxy/{name}?callback=/bind-app", headers=h)
    assert (resp.status_code, resp.text) == (400, 'proxy request POST "bind-app" is forbidden\n')

    # A team with an instance cannot be removed (the auth context asks the catalog).
    resp = requests.delete(f"{url}/teams/{owner}", headers=bearer(admin_token))
    assert resp.status_code == 403 and f"Service instances: {name}" in resp.text

    resp = requests.delete(f"{url}/services/{svc}", headers=bearer(admin_token))
    assert resp.status_code == 403
    resp = requests.delete(f"{url}/services/{svc}/instances/{name}", headers=h)
    assert resp.status_code == 200 and messages(resp) == "service instance successfully removed\n"
    assert requests.delete(f"{url}/services/{svc}", headers=bearer(admin_token)).status_code == 200


def test_service_proxy_and_secrets(stack: Stack, admin_token: str, api: FakeServiceApi) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    api.script("GET", "/stats", 201, b"created-ish", headers={"X-From-Api": "1"})
    resp = requests.get(f"{stack.url}/services/proxy/service/{svc}?callback=/stats",
                        headers=bearer(admin_token))  # fmt: skip
    assert (resp.status_code, resp.text, resp.headers["X-From-Api"]) == (201, "created-ish", "1")
    listed = requests.get(f"{stack.url}/services", headers=bearer(admin_token))
    assert "api-s3cret" not in listed.text
    evts = requests.get(f"{stack.url}/events?target.value={svc}", headers=bearer(admin_token))
    assert evts.status_code == 200 and "api-s3cret" not in evts.text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_down_api_is_named_and_nothing_is_stored(stack: Stack, admin_token: str) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, f"http://127.0.0.1:{_closed_port()}")
    resp = requests.post(f"{stack.url}/services/{svc}/instances", data={"name": "db1", "owner": owner},
                         headers=bearer(admin_token))  # fmt: skip
    assert resp.status_code == 500
    assert f'service "{svc}" did not answer: connection refused' in resp.text
    listed = requests.get(f"{stack.url}/services/instances", headers=bearer(admin_token)).json()
    assert next(s for s in listed if s["service"] == svc)["instances"] == []


def test_a_slow_api_does_not_block_other_requests(
    stack: Stack, admin_token: str, api: FakeServiceApi
) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    name = instance(stack, admin_token, svc, owner)
    api.hold("GET", f"/resources/{name}/status")
    answer: dict[str, requests.Response] = {}

    def slow() -> None:
        answer["status"] = requests.get(
            f"{stack.url}/services/{svc}/instances/{name}/status", headers=bearer(admin_token)
        )

    waiter = threading.Thread(target=slow)
    waiter.start()
    assert api.held.wait(30)
    try:
        # The catalog runs one gevent worker here: it still serves while the API hangs.
        for _ in range(3):
            resp = requests.get(f"{stack.url}/services/{svc}/doc", headers=bearer(admin_token))
            assert resp.status_code == 200
        assert "status" not in answer
    finally:
        api.release()
        waiter.join(30)
    assert answer["status"].text == f'Service instance "{name}" is up'


def test_bind_needs_an_existing_app(stack: Stack, admin_token: str, api: FakeServiceApi) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    name = instance(stack, admin_token, svc, owner)
    resp = requests.put(f"{stack.url}/services/{svc}/instances/{name}/no-such-app",
                        headers=bearer(admin_token))  # fmt: skip
    assert (resp.status_code, resp.text) == (404, "App no-such-app not found.\n")
    assert api.calls("POST", f"/resources/{name}/bind-app") == []
