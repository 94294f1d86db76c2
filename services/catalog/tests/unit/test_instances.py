"""Service instances (catalog.md §2): create, update, remove, status, info, access."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.catalog.domain import errors
from services.catalog.domain.models import Cluster, Plan, PoolInfo
from services.catalog.operations.deps import Deps
from services.catalog.tests.fakes import FakeClients, MemoryApps, MemoryPools
from services.catalog.tests.unit.conftest import ADMIN, a_service, an_instance, messages, user
from shared.testing.events import FakeRecorder

CREATOR = user(("service-instance.create", "team", "blue"))


def test_create_calls_the_api_then_stores(
    client: FlaskClient, deps: Deps, apis: FakeClients, events: FakeRecorder
) -> None:
    data = {"name": "db1", "plan": "small", "description": "main", "tag": [" a", "b", "a", ""],
            "parameters.size": "10"}  # fmt: skip
    resp = client.post("/services/mysql/instances", data=data, headers=CREATOR)
    assert resp.status_code == 201, resp.text
    assert resp.data == b""
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None
    assert (inst.plan_name, inst.team_owner, inst.teams, inst.tags) == (
        "small", "blue", ["blue"], ["a", "b"],
    )  # fmt: skip
    assert inst.parameters == {"size": "10"} and inst.apps == [] and inst.bound_units == []
    op, name, _, ctx = apis.api("mysql").calls[0]
    evt = events.last()
    assert (op, name) == ("create", "db1")
    assert (ctx.user, ctx.event_id) == ("dev@example.com", evt.unique_id)
    assert evt.kind.name == "service-instance.create" and evt.target.value == "mysql/db1"
    assert not evt.error


def test_create_json_keys(client: FlaskClient, deps: Deps) -> None:
    body = {"name": "db2", "plan_name": "big", "team_owner": "red", "tags": ["x"], "tag": "y",
            "parameters": {"a": {"b": 1}}}  # fmt: skip
    resp = client.post("/services/mysql/instances", json=body, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    inst = deps.stores.instances.get("mysql", "db2")
    assert inst is not None and (inst.plan_name, inst.team_owner) == ("big", "red")
    assert inst.tags == ["x", "y"] and inst.parameters == {"a": {"b": 1}}


def test_create_owner_rules(client: FlaskClient) -> None:
    resp = client.post("/services/mysql/instances", data={"name": "db1"}, headers=ADMIN)
    assert (resp.status_code, resp.text) == (
        400,
        "You must provide a team to execute this action.\n",
    )
    resp = client.post("/services/mysql/instances", data={"name": "db1", "owner": "red"},
                       headers=CREATOR)  # fmt: skip
    assert resp.status_code == 403
    resp = client.post("/services/mysql/instances", data={"name": "db1"}, headers=user())
    assert resp.status_code == 403
    resp = client.post("/services/mysql/instances", data={"name": "db1", "owner": "ghost"},
                       headers=ADMIN)  # fmt: skip
    assert (resp.status_code, resp.text) == (400, "Team owner doesn't exist\n")


def test_create_validation(client: FlaskClient, deps: Deps, apis: FakeClients) -> None:
    for name in ("1db", "d", "db 1", "db/1", "ção"):
        resp = client.post("/services/mysql/instances", data={"name": name}, headers=CREATOR)
        assert (resp.status_code, resp.text) == (400, "invalid service instance name\n"), name
    client.post("/services/mysql/instances", data={"name": "db1"}, headers=CREATOR)
    resp = client.post("/services/mysql/instances", data={"name": "db1"}, headers=CREATOR)
    assert (resp.status_code, resp.text) == (409, "instance name already exists.\n")
    assert (
        client.post("/services/nope/instances", data={"name": "db1"}, headers=CREATOR).status_code
        == 404
    )
    assert apis.api("mysql").ops() == ["create"]


def test_create_multi_cluster_pool_rules(
    client: FlaskClient, deps: Deps, apis: FakeClients, pools: MemoryPools
) -> None:
    resp = client.post(
        "/services/mysql/instances", data={"name": "db1", "pool": "p1"}, headers=CREATOR
    )
    assert resp.text == errors.RegularInstanceInPool.message + "\n"
    deps.stores.services.add(a_service("multi", is_multi_cluster=True,
                                       endpoint={"production": "http://p", "c1": "http://c1"}))  # fmt: skip
    resp = client.post("/services/multi/instances", data={"name": "db1"}, headers=CREATOR)
    assert (resp.status_code, resp.text) == (400, errors.MultiClusterNeedsPool.message + "\n")
    resp = client.post(
        "/services/multi/instances", data={"name": "db1", "pool": "nope"}, headers=CREATOR
    )
    assert (resp.status_code, resp.text) == (400, "Pool does not exist.\n")
    pools.pools["p2"] = PoolInfo("p2", "kubernetes", Cluster("c1", "kubernetes", ("https://k",)))
    resp = client.post(
        "/services/multi/instances", data={"name": "db1", "pool": "p2"}, headers=CREATOR
    )
    assert resp.status_code == 201, resp.text
    assert apis.urls["multi"] == "http://c1"  # the cluster's endpoint
    assert apis.api("multi").calls[-1][3].pool == pools.pools["p2"]


def test_create_api_failure_stores_nothing(
    client: FlaskClient, deps: Deps, apis: FakeClients, events: FakeRecorder
) -> None:
    apis.api("mysql").fail["create"] = errors.ServiceApiError(
        "Failed to create the instance db1: invalid response: boom (code: 500)"
    )
    resp = client.post("/services/mysql/instances", data={"name": "db1"}, headers=CREATOR)
    assert (resp.status_code, resp.text) == (
        500, "Failed to create the instance db1: invalid response: boom (code: 500)\n",
    )  # fmt: skip
    assert deps.stores.instances.get("mysql", "db1") is None
    assert events.last().error


def test_create_storage_failure_destroys_in_the_api(
    client: FlaskClient, deps: Deps, apis: FakeClients, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def refuse(_):  # type: ignore[no-untyped-def]
        raise errors.InstanceExists()

    monkeypatch.setattr(deps.stores.instances, "add", refuse)
    resp = client.post("/services/mysql/instances", data={"name": "db1"}, headers=CREATOR)
    assert resp.status_code == 409
    assert apis.api("mysql").ops() == ["create", "destroy"]


UPDATER = user(("service-instance.update", "team", "blue"))
FULL = {"description": "d", "teamowner": "blue", "plan": "small", "tag": "t", "parameters.a": "1"}


def _db1(deps: Deps, **kw) -> None:  # type: ignore[no-untyped-def]
    deps.stores.instances.add(an_instance("db1", plan_name="small", description="d", tags=["t"],
                                          parameters={"a": "1"}, **kw))  # fmt: skip


def test_update_needs_a_change(client: FlaskClient, deps: Deps) -> None:
    _db1(deps)
    resp = client.put("/services/mysql/instances/db1", data=FULL, headers=UPDATER)
    assert (resp.status_code, resp.text) == (400, errors.NothingToUpdate.message + "\n")


def test_update_replaces_and_checks_each_changed_field(
    client: FlaskClient, deps: Deps, apis: FakeClients, events: FakeRecorder
) -> None:
    _db1(deps)
    only_description = user(("service-instance.update.description", "team", "blue"))
    resp = client.put("/services/mysql/instances/db1", data={**FULL, "description": "new"},
                      headers=only_description)  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert deps.stores.instances.get("mysql", "db1").description == "new"  # type: ignore[union-attr]
    assert events.last().kind.name == "service-instance.update"
    # Omitted tags count as a change (set to none), which needs its own permission.
    data = {k: v for k, v in FULL.items() if k != "tag"}
    assert client.put("/services/mysql/instances/db1", data=data,
                      headers=only_description).status_code == 403  # fmt: skip
    resp = client.put("/services/mysql/instances/db1", data=data, headers=UPDATER)
    assert resp.status_code == 200
    assert deps.stores.instances.get("mysql", "db1").tags == []  # type: ignore[union-attr]
    assert apis.api("mysql").ops() == ["update", "update"]


def test_update_team_owner(client: FlaskClient, deps: Deps) -> None:
    _db1(deps)
    resp = client.put(
        "/services/mysql/instances/db1", data={**FULL, "teamowner": ""}, headers=UPDATER
    )
    assert (resp.status_code, resp.text) == (400, errors.TeamMandatory.message + "\n")
    resp = client.put("/services/mysql/instances/db1", data={**FULL, "teamowner": "ghost"},
                      headers=UPDATER)  # fmt: skip
    assert (resp.status_code, resp.text) == (400, "Team owner doesn't exist\n")
    resp = client.put(
        "/services/mysql/instances/db1", data={**FULL, "teamowner": "red"}, headers=UPDATER
    )
    assert resp.status_code == 200
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None and (inst.team_owner, inst.teams) == ("red", ["blue", "red"])


def test_update_api_failure_restores(client: FlaskClient, deps: Deps, apis: FakeClients) -> None:
    _db1(deps)
    apis.api("mysql").fail["update"] = errors.ServiceApiError(
        "Failed to update the instance db1: x"
    )
    resp = client.put("/services/mysql/instances/db1", data={**FULL, "description": "new",
                                                             "teamowner": "red"}, headers=UPDATER)  # fmt: skip
    assert resp.status_code == 500
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None and (inst.description, inst.teams) == ("d", ["blue"])


def test_remove(client: FlaskClient, deps: Deps, apis: FakeClients, events: FakeRecorder) -> None:
    _db1(deps)
    resp = client.delete(
        "/services/mysql/instances/db1", headers=user(("service-instance", "team", "blue"))
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/x-json-stream"
    assert messages(resp) == "service instance successfully removed\n"
    assert deps.stores.instances.get("mysql", "db1") is None
    assert apis.api("mysql").ops() == ["destroy"]
    assert events.last().kind.name == "service-instance.delete"
    assert client.delete("/services/mysql/instances/db1", headers=ADMIN).status_code == 404


def test_remove_refused_while_bound(client: FlaskClient, deps: Deps) -> None:
    _db1(deps, apps=["shop", "blog"])
    resp = client.delete("/services/mysql/instances/db1", headers=ADMIN)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.text == (
        'Applications bound to the service "db1": "shop,blog"\n: This service instance is '
        "bound to at least one app. Unbind them before removing it\n"
    )
    assert deps.stores.instances.get("mysql", "db1") is not None


def test_remove_with_unbindall(
    client: FlaskClient, deps: Deps, apis: FakeClients, apps: MemoryApps
) -> None:
    apps.add("shop")
    _db1(deps, apps=["shop"])
    resp = client.delete("/services/mysql/instances/db1?unbindall=true", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert messages(resp) == (
        'Unbind app "shop" ...\n\nInstance "db1" is not bound to the app "shop" anymore.\n'
        "service instance successfully removed\n"
    )
    assert apis.api("mysql").ops() == ["unbind_app", "destroy"]


def test_remove_api_failure_and_ignoreerrors(
    client: FlaskClient, deps: Deps, apis: FakeClients
) -> None:
    _db1(deps)
    apis.api("mysql").fail["destroy"] = errors.InstanceNotFoundInApi()
    resp = client.delete("/services/mysql/instances/db1", headers=ADMIN)
    assert (resp.status_code, resp.text) == (500, "instance does not exist in the service API\n")
    assert deps.stores.instances.get("mysql", "db1") is not None
    resp = client.delete("/services/mysql/instances/db1?ignoreerrors=1", headers=ADMIN)
    assert resp.status_code == 200
    assert messages(resp) == (
        "could not delete the service instance on service api: instance does not exist in "
        "the service API. ignoring this error due to force removal...\n"
        "service instance successfully removed\n"
    )
    assert deps.stores.instances.get("mysql", "db1") is None


def test_status(client: FlaskClient, deps: Deps, apis: FakeClients) -> None:
    _db1(deps)
    resp = client.get("/services/mysql/instances/db1/status", headers=ADMIN)
    assert (resp.status_code, resp.text) == (200, 'Service instance "db1" is up')
    apis.api("mysql").fail["status"] = errors.ServiceApiError(
        "Failed to get status of instance db1: x"
    )
    resp = client.get("/services/mysql/instances/db1/status", headers=ADMIN)
    assert resp.status_code == 500
    assert resp.text == (
        "Could not retrieve status of service instance, error: "
        "Failed to get status of instance db1: x\n"
    )
    reader = user(("service-instance.read.status", "service-instance", "mysql/db1"))
    assert client.get("/services/mysql/instances/db1/status", headers=reader).status_code == 500
    other = user(("service-instance.read.status", "service-instance", "mysql/db2"))
    assert client.get("/services/mysql/instances/db1/status", headers=other).status_code == 403


def test_info(client: FlaskClient, deps: Deps, apis: FakeClients) -> None:
    _db1(deps, apps=["shop"])
    apis.api("mysql").info_items = [{"label": "Address", "value": "10.0.0.1"}]
    apis.api("mysql").plan_list = [Plan("small", "the small plan")]
    resp = client.get("/services/mysql/instances/db1", headers=ADMIN)
    assert resp.json == {
        "Apps": ["shop"], "Teams": ["blue"], "TeamOwner": "blue", "Description": "d",
        "PlanName": "small", "PlanDescription": "the small plan", "Pool": "",
        "CustomInfo": {"Address": "10.0.0.1"}, "Tags": ["t"], "Parameters": {"a": "1"},
    }  # fmt: skip
    apis.api("mysql").plan_list = None
    assert client.get("/services/mysql/instances/db1", headers=ADMIN).json["PlanName"] == ""


def test_grant_and_revoke(client: FlaskClient, deps: Deps, events: FakeRecorder) -> None:
    _db1(deps)
    headers = user(("service-instance.update", "team", "blue"))
    path = "/services/mysql/instances/permission/db1"
    assert client.put(f"{path}/red", headers=headers).status_code == 200
    assert client.put(f"{path}/red", headers=headers).status_code == 200
    assert deps.stores.instances.get("mysql", "db1").teams == ["blue", "red", "red"]  # type: ignore[union-attr]
    resp = client.put(f"{path}/ghost", headers=headers)
    assert (resp.status_code, resp.text) == (404, "team not found\n")
    assert client.delete(f"{path}/red", headers=headers).status_code == 200
    assert deps.stores.instances.get("mysql", "db1").teams == ["blue"]  # type: ignore[union-attr]
    resp = client.delete(f"{path}/blue", headers=headers)
    assert (resp.status_code, resp.text) == (400, errors.RevokeOwner.message + "\n")
    assert client.delete(f"{path}/red", headers=headers).status_code == 200  # absent: a no-op
    assert client.put(f"{path}/red", headers=user()).status_code == 403
    assert events.kinds()[-1] == "service-instance.update.revoke"
