"""The catalog under concurrent and hostile clients, through the gateway: 20 clients
creating the same instance, huge and malformed bodies, strange names."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from scripts.stack import Stack
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.e2e.catalog_helpers import service, team
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


@pytest.fixture
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


def test_twenty_clients_create_one_instance(
    stack: Stack, admin_token: str, api: FakeServiceApi
) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    start = threading.Barrier(20)
    statuses: list[int] = []

    def create() -> None:
        start.wait()
        resp = requests.post(f"{stack.url}/services/{svc}/instances",
                             data={"name": "same", "owner": owner}, headers=bearer(admin_token))  # fmt: skip
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201] + [409] * 19, statuses
    # The losers never reached the service API: nothing created twice, nothing destroyed.
    assert len(api.calls("POST", "/resources")) == 1
    assert api.calls("DELETE", "/resources/same") == []
    listed = requests.get(f"{stack.url}/services/instances", headers=bearer(admin_token)).json()
    assert next(s for s in listed if s["service"] == svc)["instances"] == ["same"]


def test_hostile_input(stack: Stack, admin_token: str, api: FakeServiceApi) -> None:
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    h, url = bearer(admin_token), stack.url
    huge = requests.post(
        f"{url}/services/{svc}/instances", data={"name": "x" * 2_000_000}, headers=h
    )
    assert huge.status_code == 413
    for name in ("ünïcode", "a\u202eb", "db\x00", "../etc", "a" + "\U0001f600"):
        resp = requests.post(f"{url}/services/{svc}/instances", data={"name": name, "owner": owner},
                             headers=h)  # fmt: skip
        assert resp.status_code == 400, (name, resp.text)
    resp = requests.post(
        f"{url}/services", data=b'{"id": ', headers={**h, "Content-Type": "application/json"}
    )
    assert resp.status_code == 400 and resp.text.startswith("unable to parse as json")
    resp = requests.post(f"{url}/services/{svc}/instances", json={"name": "ok1", "owner": owner,
                                                                 "parameters": "not-an-object"},
                         headers=h)  # fmt: skip
    assert resp.status_code == 400
    resp = requests.post(f"{url}/services", json={"id": "deep", "password": "p", "team": owner,
                                                  "endpoints": {"a": {"b": "c"}}}, headers=h)  # fmt: skip
    assert resp.status_code == 400
    assert api.calls("POST", "/resources") == []
