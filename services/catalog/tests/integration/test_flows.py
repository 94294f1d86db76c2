"""Whole operations on the real adapters: the lifecycle of an instance bound to an
app, and a service API failing at each step leaving nothing half-done on any side."""

from __future__ import annotations

import pytest

from services.catalog.domain.models import PoolInfo
from services.catalog.tests.fakes import MemoryPools
from services.catalog.tests.integration.conftest import World
from services.catalog.tests.unit.conftest import ADMIN, messages, stream_lines, user

pytestmark = pytest.mark.integration

NEW = {"id": "mysql", "password": "s3cret", "team": "blue"}


def _service(w: World) -> None:
    client = w.app.test_client()
    resp = client.post("/services", data={**NEW, "endpoint": w.api.url}, headers=ADMIN)
    assert resp.status_code == 201, resp.text


def test_lifecycle(world: World) -> None:
    w, client = world, world.app.test_client()
    w.deps.pools = MemoryPools(pools={"p1": PoolInfo("p1", "process")})
    _service(w)
    w.apps.add_app(
        "shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.1"), ("u2", "10.0.0.2")]
    )
    dev = user(("service-instance", "team", "blue"), ("app", "team", "blue"))
    assert client.post("/services/mysql/instances", data={"name": "db1", "owner": "blue"},
                       headers=dev).status_code == 201  # fmt: skip
    resp = client.put("/services/mysql/instances/db1/shop", headers=dev)
    assert resp.status_code == 200, resp.text
    assert messages(resp) == (
        "---- Setting 3 new environment variables ----\n"
        '---- Restarting the app "shop" ----\n'
        '\nInstance "db1" is now bound to the app "shop".\n'
        "The following environment variables are available for use in your app:\n\n"
        "- DB_HOST\n- DB_USER\n- TSURU_SERVICES\n"
    )
    assert [e["name"] for e in w.apps.service_envs("shop")] == ["DB_HOST", "DB_USER"]
    bound = w.api.calls("POST", "/resources/db1/bind-app")[0]
    assert bound.field("app-hosts") == ["shop.tsubame.localhost"]
    assert (bound.field("app-pool-name"), bound.field("app-pool-provisioner")) == (
        ["p1"],
        ["process"],
    )
    assert sorted(r.field("unit-host")[0] for r in w.api.calls("POST", "/resources/db1/bind")) == [
        "10.0.0.1", "10.0.0.2",
    ]  # fmt: skip
    listed = client.get("/services/instances?app=shop", headers=dev).json
    assert listed[0]["service_instances"][0]["apps"] == ["shop"]
    assert len(listed[0]["service_instances"][0]["bound_units"]) == 2
    resp = client.delete("/services/mysql/instances/db1/shop", headers=dev)
    assert resp.status_code == 200, resp.text
    assert w.apps.service_envs("shop") == []
    assert len(w.api.calls("DELETE", "/resources/db1/bind")) == 2
    assert len(w.api.calls("DELETE", "/resources/db1/bind-app")) == 1
    resp = client.delete("/services/mysql/instances/db1", headers=dev)
    assert messages(resp) == "service instance successfully removed\n"
    assert w.deps.stores.instances.get("mysql", "db1") is None


STEPS = [
    ("POST", "/resources/db1/bind-app"),
    ("restart", ""),
    ("POST", "/resources/db1/bind"),
]


@pytest.mark.parametrize(("method", "path"), STEPS)
def test_a_failure_at_each_bind_step_leaves_nothing_half_bound(
    world: World, method: str, path: str
) -> None:
    w, client = world, world.app.test_client()
    _service(w)
    w.apps.add_app(
        "shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.1"), ("u2", "10.0.0.2")]
    )
    client.post("/services/mysql/instances", data={"name": "db1", "owner": "blue"}, headers=ADMIN)
    if method == "restart":
        w.apps.fail_restart = True
    else:
        # the second unit's bind fails: the first one must be unbound again
        w.api.script(method, path, 500, "boom", times=1 if path.endswith("bind-app") else None)
        if path.endswith("/bind"):
            w.api.received.clear()
    resp = client.put("/services/mysql/instances/db1/shop", headers=ADMIN)
    if resp.status_code == 200:
        assert stream_lines(resp)[-1]["Error"].endswith('("db1" is up)')
    else:
        assert resp.status_code == 500 and resp.text.endswith('("db1" is up)\n')
    inst = w.deps.stores.instances.get("mysql", "db1")
    assert inst is not None and (inst.apps, inst.bound_units) == ([], [])
    assert w.apps.service_envs("shop") == []
    binds = len(w.api.calls("POST", "/resources/db1/bind-app"))
    if method != "POST" or not path.endswith("bind-app"):
        assert binds == 1 and len(w.api.calls("DELETE", "/resources/db1/bind-app")) == 1


def test_create_failure_and_removal_failure(world: World) -> None:
    w, client = world, world.app.test_client()
    _service(w)
    w.api.script("POST", "/resources", 500, "no room")
    resp = client.post(
        "/services/mysql/instances", data={"name": "db1", "owner": "blue"}, headers=ADMIN
    )
    assert (resp.status_code, resp.text) == (
        500, "Failed to create the instance db1: invalid response: no room (code: 500)\n",
    )  # fmt: skip
    assert w.deps.stores.instances.get("mysql", "db1") is None
    client.post("/services/mysql/instances", data={"name": "db1", "owner": "blue"}, headers=ADMIN)
    w.api.script("DELETE", "/resources/db1", 500, "busy")
    resp = client.delete("/services/mysql/instances/db1", headers=ADMIN)
    assert resp.status_code == 500 and "Failed to destroy the instance db1" in resp.text
    assert w.deps.stores.instances.get("mysql", "db1") is not None


def test_broker_lifecycle(world: World) -> None:
    w, client = world, world.app.test_client()
    broker = {"Name": "aws", "URL": w.broker.url, "Config": {"AuthConfig": {"BasicAuthConfig": {
        "Username": w.broker.username, "Password": w.broker.password}}}}  # fmt: skip
    assert client.post("/brokers", json=broker, headers=ADMIN).status_code == 201
    assert "aws::db" in [s["service"] for s in client.get("/services", headers=ADMIN).json]
    w.apps.add_app("shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.1")])
    resp = client.post("/services/aws::db/instances",
                       data={"name": "b1", "owner": "blue", "plan": "big"}, headers=ADMIN)  # fmt: skip
    assert resp.status_code == 201, resp.text
    status = client.get("/services/aws::db/instances/b1/status", headers=ADMIN).text
    assert status == 'Service instance "b1" is in progress - creating'
    assert client.get("/services/aws::db/instances/b1/status", headers=ADMIN).text == (
        'Service instance "b1" is succeeded'
    )
    resp = client.put("/services/aws::db/instances/b1/shop", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert [e["name"] for e in w.apps.service_envs("shop")] == ["DB_URI"]
    inst = w.deps.stores.instances.get("aws::db", "b1")
    assert inst is not None and inst.broker_data is not None and "shop" in inst.broker_data.binds
    assert client.delete("/services/aws::db/instances/b1/shop", headers=ADMIN).status_code == 200
    assert w.broker.bindings == {}
    assert client.delete("/services/aws::db/instances/b1", headers=ADMIN).status_code == 200
    assert w.broker.instances == {}
