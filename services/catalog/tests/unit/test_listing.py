"""Who sees which service and instance (catalog.md §1.1, §2.4, §2.7)."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from services.catalog.domain import errors
from services.catalog.operations.deps import Deps
from services.catalog.tests.fakes import FakeClients
from services.catalog.tests.unit.conftest import ADMIN, a_service, an_instance, user


def _world(deps: Deps) -> None:
    deps.stores.services.add(a_service("redis", owner_teams=["red"], teams=["blue"],
                                       is_restricted=True))  # fmt: skip
    deps.stores.instances.add(an_instance("db1", tags=["t1"], plan_name="small"))
    deps.stores.instances.add(an_instance("db2", teams=["red"], team_owner="red"))
    deps.stores.instances.add(an_instance("c1", service="redis", teams=["red"], team_owner="red"))


def test_service_list_shows_administered_services(client: FlaskClient, deps: Deps) -> None:
    _world(deps)
    reader = user(("service.read", "team", "blue"))
    assert client.get("/services", headers=reader).json == [
        {"service": "mysql", "instances": ["db1", "db2"], "plans": None, "service_instances": [
            {"name": "db1", "id": 0, "service_name": "mysql", "plan_name": "", "apps": None,
             "bound_units": None, "teams": None, "team_owner": "", "description": "",
             "tags": ["t1"]},
            {"name": "db2", "id": 0, "service_name": "mysql", "plan_name": "", "apps": None,
             "bound_units": None, "teams": None, "team_owner": "", "description": "",
             "tags": []}]},
    ]  # fmt: skip
    by_name = user(("service.read", "service", "redis"))
    assert [s["service"] for s in client.get("/services", headers=by_name).json] == ["redis"]
    assert client.get("/services", headers=user()).status_code == 204
    assert [s["service"] for s in client.get("/services", headers=ADMIN).json] == ["mysql", "redis"]


def test_instance_list_filters_by_instance_and_service_grants(
    client: FlaskClient, deps: Deps
) -> None:
    _world(deps)
    blue = user(("service-instance.read", "team", "blue"))
    listed = client.get("/services/instances", headers=blue).json
    # redis is restricted and blue holds no service.read: it is not shown.
    assert [s["service"] for s in listed] == ["mysql"]
    assert listed[0]["instances"] == ["db1"] and listed[0]["plans"] == ["small"]
    assert listed[0]["service_instances"][0]["apps"] == []
    both = user(("service-instance.read", "team", "red"), ("service.read", "team", "blue"))
    listed = client.get("/services/instances", headers=both).json
    assert [(s["service"], s["instances"]) for s in listed] == [
        ("mysql", ["db2"]), ("redis", ["c1"]),
    ]  # fmt: skip
    # an instance context names the instance only in this listing (tsuru 1.11)
    named = user(("service-instance.read", "service-instance", "other/db1"))
    assert client.get("/services/instances", headers=named).json[0]["instances"] == ["db1"]
    empty = client.get("/services/instances", headers=user()).json
    assert empty == [
        {"service": "mysql", "instances": [], "plans": None, "service_instances": None}
    ]


def test_instance_list_by_app(client: FlaskClient, deps: Deps) -> None:
    _world(deps)
    deps.stores.instances.add_app("mysql", "db2", "shop")
    listed = client.get("/services/instances?app=shop", headers=ADMIN).json
    assert [(s["service"], s["instances"]) for s in listed] == [("mysql", ["db2"]), ("redis", [])]


def test_service_info(client: FlaskClient, deps: Deps, apis: FakeClients) -> None:
    _world(deps)
    apis.api("mysql").info_items = [{"label": "Address", "value": "10.0.0.1"}]
    reader = user(("service-instance.read", "service-instance", "mysql/db1"))
    resp = client.get("/services/mysql", headers=reader)
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert json.loads(resp.data) == [{"Id": 0, "Name": "db1", "Pool": "", "Teams": ["blue"],
                          "PlanName": "small", "Apps": [], "ServiceName": "mysql",
                          "Info": {"Address": "10.0.0.1"}, "TeamOwner": "blue"}]  # fmt: skip
    apis.api("mysql").fail["info"] = errors.ServiceApiError("down")
    assert json.loads(client.get("/services/mysql", headers=reader).data)[0]["Info"] is None
    assert client.get("/services/mysql", headers=user()).data == b"null\n"
    assert client.get("/services/nope", headers=user()).status_code == 404
