"""The service and instance proxies (catalog.md §e)."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.catalog.domain.models import Cluster, PoolInfo
from services.catalog.operations.deps import Deps, ProxyResponse
from services.catalog.tests.fakes import FakeProxy, MemoryPools
from services.catalog.tests.unit.conftest import ADMIN, a_service, an_instance, user
from shared.testing.events import FakeRecorder


def test_service_proxy(client: FlaskClient, proxy: FakeProxy, events: FakeRecorder) -> None:
    headers = {**user(("service.update.proxy", "team", "blue")), "X-Custom": "1",
               "Authorization": "bearer user-token"}  # fmt: skip
    resp = client.get("/services/proxy/service/mysql?callback=/stats/&x=1", headers=headers)
    assert (resp.status_code, resp.data) == (200, b"proxied")
    sent = proxy.requests[-1]
    assert sent.url == "http://api.example/stats?x=1"
    assert sent.auth == ("mysql", "s3cret")
    names = {k.lower(): v for k, v in sent.headers}
    assert names["x-custom"] == "1" and "authorization" not in names
    assert "x-tsubame-identity" not in names and "x-tsuru-user" not in names
    assert events.records == []  # GET records nothing
    resp = client.post(
        "/services/proxy/service/mysql?callback=/do", data={"a": "1"}, headers=headers
    )
    assert resp.status_code == 200
    sent = proxy.requests[-1]
    assert sent.body == b"a=1"
    evt = events.last()
    assert evt.kind.name == "service.update.proxy" and not evt.error
    assert {"name": "method", "value": "POST"} in evt.start_custom_data
    assert dict(sent.headers)["X-Tsuru-Eventid"] == evt.unique_id
    assert client.get("/services/proxy/service/mysql", headers=user()).status_code == 403
    assert client.get("/services/proxy/service/nope", headers=ADMIN).status_code == 404


def test_instance_proxy_paths(
    client: FlaskClient, deps: Deps, proxy: FakeProxy, pools: MemoryPools, events: FakeRecorder
) -> None:
    deps.stores.instances.add(an_instance("db1"))
    headers = user(("service-instance.update.proxy", "team", "blue"))
    for callback in ("/resources/db1/mypath", "/mypath", "mypath/"):
        client.get(f"/services/mysql/proxy/db1?callback={callback}", headers=headers)
        assert proxy.requests[-1].url == "http://api.example/resources/db1/mypath"
    for callback in ("", "/bind-app", "/resources/db1/bind"):
        resp = client.post(f"/services/mysql/proxy/db1?callback={callback}", headers=headers)
        path = callback.rsplit("/", 1)[-1]
        assert (resp.status_code, resp.text) == (400, f'proxy request POST "{path}" is forbidden\n')
        assert events.last().error
    assert (
        client.get("/services/mysql/proxy/db1?callback=/bind", headers=headers).status_code == 200
    )
    resp = client.delete("/services/mysql/proxy/db1?callback=/bind/extra", headers=headers)
    assert resp.status_code == 200
    assert client.get("/services/mysql/proxy/nope?callback=/x", headers=headers).status_code == 404
    assert client.get("/services/mysql/proxy/db1?callback=/x", headers=user()).status_code == 403


def test_instance_proxy_pool_headers_and_upstream_status(
    client: FlaskClient, deps: Deps, proxy: FakeProxy, pools: MemoryPools
) -> None:
    deps.stores.services.add(a_service("multi", is_multi_cluster=True,
                                       endpoint={"production": "http://p", "c1": "http://c1/"}))  # fmt: skip
    pools.pools["p2"] = PoolInfo("p2", "kubernetes", Cluster("c1", "kubernetes", ("a1", "a2")))
    deps.stores.instances.add(an_instance("m1", service="multi", pool="p2"))
    proxy.answer = ProxyResponse(418, [("X-Up", "y")], iter([b"teapot"]))
    resp = client.put("/services/multi/proxy/m1?callback=/x", data=b"raw", headers=ADMIN)
    assert (resp.status_code, resp.data, resp.headers["X-Up"]) == (418, b"teapot", "y")
    sent = proxy.requests[-1]
    assert sent.url == "http://c1/resources/m1/x"
    assert [v for k, v in sent.headers if k == "X-Tsuru-Cluster-Addresses"] == ["a1", "a2"]
    assert ("X-Tsuru-Pool-Name", "p2") in sent.headers
