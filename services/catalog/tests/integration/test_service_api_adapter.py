"""tsuru's service-API client against a real HTTP service API (catalog.md §c.2, §c.3)."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import pytest

from services.catalog.adapters.outbound import Limits, Outbound
from services.catalog.adapters.service_api import EndpointClient
from services.catalog.domain import errors
from services.catalog.domain.models import AppUnit, AppView, Cluster, Plan, PoolInfo
from services.catalog.operations.deps import CallContext
from services.catalog.tests.fakes import a_service, an_instance
from services.catalog.tests.peers.service_api import FakeServiceApi

pytestmark = pytest.mark.integration

CTX = CallContext(user="dev@example.com", event_id="0123456789abcdef01234567")
APP = AppView("shop", ("blue",), "blue", "p1", ("shop.tsubame.localhost", "www.shop.com"),
              ("tcp://10.0.0.5:8888",), pool_info=PoolInfo("p1", "process"))  # fmt: skip


@pytest.fixture
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


def client(api: FakeServiceApi, **limits: float) -> EndpointClient:
    svc = a_service("mysql", username="", password="s3cret")
    return EndpointClient(Outbound(Limits(**limits)), svc, api.url + "/")  # type: ignore[arg-type]


def test_create_sends_tsurus_form_headers_and_auth(api: FakeServiceApi) -> None:
    inst = an_instance(plan_name="small", description="main", tags=["a", "b"],
                       parameters={"p": {"x": "y"}, "n": 1})  # fmt: skip
    client(api).create(inst, CTX)
    got = api.calls("POST", "/resources")[0]
    assert sorted(got.form) == sorted([
        ("name", "db1"), ("team", "blue"), ("user", "dev@example.com"),
        ("eventid", CTX.event_id), ("tags", "a"), ("tags", "b"), ("plan", "small"),
        ("description", "main"), ("parameters.p.x", "y"), ("parameters.n", "1"),
    ])  # fmt: skip
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(b"mysql:s3cret").decode()
    assert got.headers["Accept"] == "application/json"
    assert got.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (got.headers["X-Tsuru-User"], got.headers["X-Tsuru-Eventid"]) == (
        "dev@example.com", CTX.event_id,
    )  # fmt: skip
    plain = an_instance()
    client(api).create(plain, CTX)
    fields = [k for k, _ in api.calls("POST", "/resources")[1].form]
    assert "plan" not in fields and "description" not in fields and "tags" not in fields


def test_create_answers(api: FakeServiceApi) -> None:
    api.script("POST", "/resources", 409)
    with pytest.raises(errors.InstanceExistsInApi):
        client(api).create(an_instance(), CTX)
    api.script("POST", "/resources", 500, "boom")
    with pytest.raises(errors.ServiceApiError) as err:
        client(api).create(an_instance(), CTX)
    assert str(err.value) == "Failed to create the instance db1: invalid response: boom (code: 500)"


def test_bind_app_form_and_legacy_fallback(api: FakeServiceApi) -> None:
    result = client(api).bind_app(an_instance(), APP, {"tier": "gold"}, CTX)
    assert result.envs == {"DB_HOST": "10.0.0.1", "DB_USER": "u"}
    got = api.calls("POST", "/resources/db1/bind-app")[0]
    assert got.field("app-hosts") == ["shop.tsubame.localhost", "www.shop.com"]
    assert got.field("app-host") == ["shop.tsubame.localhost"]
    assert got.field("app-internal-hosts") == ["tcp://10.0.0.5:8888"]
    assert got.field("app-pool-name") == ["p1"] and got.field("app-pool-provisioner") == ["process"]
    assert got.field("parameters.tier") == ["gold"] and got.field("app-name") == ["shop"]
    # An API of tsuru's older contract answers 404 on bind-app: tsuru tries /bind.
    api.script("POST", "/resources/db1/bind-app", 404)
    api.script("POST", "/resources/db1/bind", 200, {"OLD": "1"})
    assert client(api).bind_app(an_instance(), APP, {}, CTX).envs == {"OLD": "1"}
    assert len(api.calls("POST", "/resources/db1/bind")) == 1


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (201, b"", "EOF"),
        (201, b'{"PORT": 3306}', "json: cannot unmarshal number into Go value of type string"),
        (412, b"", "instance is not ready yet"),
        (500, b"oops", 'Failed to bind the instance "mysql/db1" to the app "shop": '
                       "invalid response: oops (code: 500)"),
    ],
)  # fmt: skip
def test_bind_app_failures(api: FakeServiceApi, status: int, body: bytes, text: str) -> None:
    api.script("POST", "/resources/db1/bind-app", status, body)
    with pytest.raises(errors.ServiceApiError) as err:
        client(api).bind_app(an_instance(), APP, {}, CTX)
    assert str(err.value) == text
    api.script("POST", "/resources/db1/bind-app", 201, b"null")
    assert client(api).bind_app(an_instance(), APP, {}, CTX).envs == {}


def test_units_and_unbind_calls(api: FakeServiceApi) -> None:
    pool = PoolInfo("p2", "kubernetes", Cluster("c1", "kubernetes", ("https://a", "https://b")))
    inst = an_instance(pool="p2")
    ctx = CallContext(pool=pool)
    c = client(api)
    c.bind_unit(inst, APP, AppUnit("u1", "10.0.0.7"), ctx)
    got = api.calls("POST", "/resources/db1/bind")[0]
    assert sorted(got.form) == sorted([("app-name", "shop"), ("app-hosts", "shop.tsubame.localhost"),
                                       ("app-hosts", "www.shop.com"),
                                       ("app-host", "shop.tsubame.localhost"),
                                       ("unit-host", "10.0.0.7")])  # fmt: skip
    assert "X-Tsuru-User" not in got.headers
    assert got.headers["X-Tsuru-Pool-Name"] == "p2"
    assert got.headers["X-Tsuru-Cluster-Addresses"] == "https://a, https://b"
    c.unbind_unit(inst, APP, AppUnit("u1", "10.0.0.7"), ctx)
    got = api.calls("DELETE", "/resources/db1/bind")[0]
    assert "app-name" not in dict(got.form) and got.field("unit-host") == ["10.0.0.7"]
    c.unbind_app(inst, APP, CTX)
    got = api.calls("DELETE", "/resources/db1/bind-app")[0]
    assert got.field("user") == ["dev@example.com"] and got.field("app-name") == ["shop"]
    api.script("DELETE", "/resources/db1/bind", 404)
    with pytest.raises(errors.InstanceNotFoundInApi):
        c.unbind_unit(inst, APP, AppUnit("u1", "10.0.0.7"), ctx)
    api.script("DELETE", "/resources/db1/bind-app", 500, "no")
    with pytest.raises(errors.ServiceApiError) as err:
        c.unbind_app(inst, APP, CTX)
    assert (
        str(err.value)
        == 'Failed to unbind ("/resources/db1/bind-app"): invalid response: no (code: 500)'
    )


def test_status_info_plans_update_destroy(api: FakeServiceApi) -> None:
    c, inst = client(api), an_instance()
    for status, body, expected in [
        (200, "all good", "all good"), (202, "", "pending"), (204, "", "up"),
        (404, "", "not implemented for this service"), (500, "", "down"),
    ]:  # fmt: skip
        api.script("GET", "/resources/db1/status", status, body)
        assert c.status(inst, CTX) == expected
    assert "X-Tsuru-User" not in api.calls("GET", "/resources/db1/status")[0].headers
    api.script("GET", "/resources/db1/status", 418, "tea")
    with pytest.raises(errors.ServiceApiError, match="Failed to get status of instance db1"):
        c.status(inst, CTX)
    assert c.info(inst, CTX) == [{"label": "Address", "value": "a"}]
    api.script("GET", "/resources/db1", 503)
    assert c.info(inst, CTX) == []
    assert c.plans(CTX) == [Plan("small", "1 cpu")]
    api.script("GET", "/resources/plans", 400, {"msg": "x", "missing_params": ["cluster"]})
    with pytest.raises(errors.MissingPool):
        c.plans(CTX)
    api.script("GET", "/resources/plans", 500)
    assert c.plans(CTX) is None
    api.script("PUT", "/resources/db1", 404)
    c.update(inst, CTX)  # tsuru ignores a 404 on update
    got = api.calls("PUT", "/resources/db1")[0]
    assert {"description", "team", "plan", "user", "eventid"} <= {k for k, _ in got.form}
    api.script("DELETE", "/resources/db1", 404)
    with pytest.raises(errors.InstanceNotFoundInApi):
        c.destroy(inst, CTX)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_api_that_is_down_is_named(api: FakeServiceApi) -> None:
    svc = a_service("mysql")
    down = EndpointClient(Outbound(), svc, f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(errors.ServiceApiError) as err:
        down.create(an_instance(), CTX)
    assert str(err.value).startswith('Failed to create the instance db1: Post "http://127.0.0.1:')
    assert 'service "mysql" did not answer: connection refused' in str(err.value)


def test_a_slow_api_times_out_and_a_huge_answer_is_refused(api: FakeServiceApi) -> None:
    api.hold("GET", "/resources/db1/status")
    with pytest.raises(errors.ServiceApiError) as err:
        client(api, timeout=0.5).status(an_instance(), CTX)
    assert 'service "mysql" did not answer: timed out' in str(err.value)
    api.release()
    api.script("GET", "/resources/db1", 200, b"[" + b'{"label":"x","value":"y"},' * 50_000 + b"{}]")
    with pytest.raises(errors.ServiceApiError) as err:
        client(api, max_body=64 * 1024).info(an_instance(), CTX)
    assert "answered more than 65536 bytes" in str(err.value)
