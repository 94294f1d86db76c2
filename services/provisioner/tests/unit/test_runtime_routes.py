"""The runtime's internal routes on memory stores: shapes, refusals and hostile input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from services.provisioner.bootstrap import create_app
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.routes import Route
from services.provisioner.domain.runtime import AppRuntime, Group, VersionRelease
from services.provisioner.domain.units import Unit
from services.provisioner.operations.deps import Deps
from services.provisioner.tests.fakes import fake_deps
from shared.identity import internal_identity
from shared.settings import Settings
from shared.testing.identity import SigningClient, pending

SECRET = b"runtime-routes-secret-0123456789"
SETTINGS = Settings("/nonexistent", "t", "", "", SECRET)
T0 = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)


@pytest.fixture
def deps() -> Deps:
    made = fake_deps()
    rt = AppRuntime("shop", AppSpec(name="shop", platform="python"))
    rt.releases[1] = VersionRelease(1, "img", "/r/1", {"web": "w", "worker": "k"})
    rt.groups = [Group("web", 1, 1), Group("worker", 1, 1)]
    rt.routable = [1]
    made.runtime.runtimes.create(rt)
    made.runtime.units.put(
        Unit("shop-web-1-aaaa", "shop", "web", 1, "started", "127.0.0.1:4000", created_at=T0)
    )
    made.runtime.units.put(Unit("shop-worker-1-bbbb", "shop", "worker", 1, "started"))
    # (a unit recorded without a date lists first, as MongoDB sorts nulls first)
    made.runtime.routes.put(Route("shop", ("shop.apps.test",), ("127.0.0.1:4000",)))
    return made


@pytest.fixture
def client(deps: Deps) -> FlaskClient:
    app = create_app(SETTINGS, deps)
    app.test_client_class = SigningClient
    return app.test_client()


INTERNAL = pending(internal_identity("apps"), SECRET)


def test_units_in_tsurus_shape(client: FlaskClient) -> None:
    r = client.get("/internal/apps/shop/units", headers=INTERNAL)
    assert r.status_code == 200
    worker, web = r.json
    assert web["Address"]["Host"] == "127.0.0.1:4000" and web["Addresses"] == [web["Address"]]
    assert (web["HostAddr"], web["HostPort"], web["IP"], web["Type"]) == (
        "127.0.0.1", "4000", "127.0.0.1", "python",
    )  # fmt: skip
    assert web["Routable"] is True and worker["Routable"] is False
    assert worker["Address"] is None and worker["Addresses"] is None
    assert web["CreatedAt"] == "2026-01-02T03:04:05.006Z" and worker["CreatedAt"] is None
    one = r.json
    r = client.post("/internal/units", json={"apps": ["shop", "x"]}, headers=INTERNAL)
    assert set(r.json["units"]) == {"shop", "x"} and r.json["units"]["x"] == []
    # The batch reads the runtimes too (platform, routability): the same units.
    assert r.json["units"]["shop"] == one


@pytest.mark.parametrize(
    "body",
    [{"apps": "shop"}, {"apps": [1]}, {"apps": ["a"] * 1001}, [], "x", None],
)
def test_bad_unit_queries_are_400(client: FlaskClient, body: object) -> None:
    r = client.post("/internal/units", json=body, headers=INTERNAL)
    assert r.status_code == 400 and r.mimetype == "text/plain"


def test_anonymous_callers_are_refused(client: FlaskClient) -> None:
    assert client.get("/internal/routes").status_code == 401


def test_route_table_and_one_route(client: FlaskClient) -> None:
    table = client.get("/internal/routes", headers=INTERNAL).json
    assert table == {
        "seq": 1,
        "routes": [
            {
                "app": "shop",
                "hosts": ["shop.apps.test"],
                "backends": ["127.0.0.1:4000"],
                "asleep": False,
                "seq": 1,
            }
        ],
    }
    assert client.get("/internal/apps/shop/route", headers=INTERNAL).json == table["routes"][0]
    r = client.get("/internal/apps/nope/route", headers=INTERNAL)
    assert (r.status_code, r.text) == (404, "route not found\n")


def test_agent_relays(client: FlaskClient, deps: Deps) -> None:
    path = "/internal/apps/shop/units/shop-web/status"
    assert client.post(path, json={"status": "started"}, headers=INTERNAL).status_code == 200
    r = client.post(path, json={"status": "sleepy"}, headers=INTERNAL)
    assert (r.status_code, r.text) == (400, "invalid status\n")
    r = client.post(path, json=["not", "an", "object"], headers=INTERNAL)
    assert r.status_code == 400
    r = client.post(
        "/internal/apps/shop/units/register",
        json={"hostname": "shop-web-1-aaaa", "customdata": {"procfile": "web: w"}},
        headers=INTERNAL,
    )
    assert r.status_code == 200
    unit = deps.runtime.units.get("shop-web-1-aaaa")
    assert unit is not None and unit.registered and unit.custom_data == {"procfile": "web: w"}
    r = client.post(
        "/internal/apps/shop/units/register",
        json={"hostname": "shop-web-1-aaaa", "customdata": "x"},
        headers=INTERNAL,
    )
    assert r.status_code == 400
    r = client.post(
        "/internal/node/status", json={"Units": [{"ID": "shop-web-1-aaaa"}, {"ID": 3}]},
        headers=INTERNAL,
    )  # fmt: skip
    assert r.json == [{"ID": "shop-web-1-aaaa", "Found": True}]


def test_autoscale_validation_texts(client: FlaskClient) -> None:
    path = "/internal/apps/shop/autoscale"
    spec = {"process": "web", "minUnits": 2, "maxUnits": 5, "averageCPU": "96%", "version": 0}
    r = client.post(
        path, json={"spec": spec, "quota_limit": 0, "plan": {"cpumilli": 500}}, headers=INTERNAL
    )
    assert (r.status_code, r.text) == (
        400, "unable to validate autoscale spec: autoscale cpu value cannot be greater than 95%\n",
    )  # fmt: skip
    r = client.post(path, json={"spec": "x"}, headers=INTERNAL)
    assert r.status_code == 400
    r = client.post(
        path,
        json={"spec": {**spec, "averageCPU": "60%"}, "plan": {"cpumilli": 500}},
        headers=INTERNAL,
    )
    assert r.status_code == 200
    assert client.get(path, headers=INTERNAL).json == [{**spec, "averageCPU": "60%"}]
