"""Bind and unbind (catalog.md §3, §c.4): the stream, the permission matrix, and a
failure at each step leaving nothing half-bound."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from services.catalog.domain import errors
from services.catalog.domain.models import AppUnit, BoundUnit
from services.catalog.operations.deps import Deps
from services.catalog.tests.fakes import FakeClients, MemoryApps, MemoryPools
from services.catalog.tests.unit.conftest import (
    ADMIN,
    a_service,
    an_instance,
    messages,
    stream_lines,
    user,
)
from shared.testing.events import FakeRecorder

BIND = "/services/mysql/instances/db1/shop"
UNITS = (AppUnit("u1", "10.0.0.1"), AppUnit("u2", "10.0.0.2"))


@pytest.fixture(autouse=True)
def world(deps: Deps, apps: MemoryApps) -> None:
    deps.stores.instances.add(an_instance("db1"))
    apps.add("shop", units=UNITS)


def _bound(deps: Deps) -> tuple[list[str], list[BoundUnit]]:
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None
    return inst.apps, inst.bound_units


def test_bind_streams_and_binds_everything(
    client: FlaskClient, deps: Deps, apis: FakeClients, apps: MemoryApps, events: FakeRecorder
) -> None:
    apis.api("mysql").envs = {"DB_USER": "u", "DB_HOST": "h"}
    resp = client.put(BIND, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/x-json-stream"
    assert messages(resp) == (
        "---- Setting 3 new environment variables ----\n"
        '---- Restarting the app "shop" ----\n'
        '\nInstance "db1" is now bound to the app "shop".\n'
        "The following environment variables are available for use in your app:\n\n"
        "- DB_HOST\n- DB_USER\n- TSURU_SERVICES\n"
    )
    apps_, units = _bound(deps)
    assert apps_ == ["shop"]
    assert sorted(u.id for u in units) == ["u1", "u2"]
    assert apps.envs["shop"] == [("mysql", "db1", "DB_HOST", "h"), ("mysql", "db1", "DB_USER", "u")]
    assert apps.restarts == ["shop"]
    assert apis.api("mysql").ops()[:1] == ["bind_app"]
    assert sorted(apis.api("mysql").ops()[1:]) == ["bind_unit", "bind_unit"]
    evt = events.last()
    assert evt.kind.name == "app.update.bind" and evt.target.value == "shop"
    assert [e.target.value for e in evt.extra_targets] == ["mysql/db1"]
    assert "Setting 3 new environment variables" in evt.log


def test_bind_without_envs_or_restart(
    client: FlaskClient, deps: Deps, apis: FakeClients, apps: MemoryApps
) -> None:
    apis.api("mysql").envs = {}
    resp = client.put(BIND, data={"noRestart": "true", "parameters.tier": "gold"}, headers=ADMIN)
    assert messages(resp) == '\nInstance "db1" is now bound to the app "shop".\n'
    assert apps.restarts == [] and apps.envs.get("shop", []) == []


def test_bind_twice_is_refused_with_the_status(client: FlaskClient) -> None:
    client.put(BIND, headers=ADMIN).get_data()
    resp = client.put(BIND, headers=ADMIN)
    assert (resp.status_code, resp.text) == (
        400, 'app is already bound to this service instance ("db1" is up)\n',
    )  # fmt: skip


@pytest.mark.parametrize("step", ["bind_app", "set_envs", "restart", "bind_unit"])
def test_a_failure_at_any_step_leaves_nothing_bound(
    step: str, client: FlaskClient, deps: Deps, apis: FakeClients, apps: MemoryApps
) -> None:
    api = apis.api("mysql")
    if step == "bind_app":
        api.fail["bind_app"] = errors.ServiceApiError("Failed to bind ...: boom")
    elif step == "restart":
        apps.fail_restart = True
    elif step == "set_envs":
        apps.apps.pop("shop")  # gone between the lookup and the env step
        apps.get = lambda name: apps.add(name, units=UNITS) if False else _ghost(apps, name)  # type: ignore[method-assign]
    else:
        api.fail["bind_unit"] = errors.InstanceNotReady()
    resp = client.put(BIND, headers=ADMIN)
    text = resp.get_data(as_text=True)
    assert resp.status_code in (200, 400, 404, 500)
    if resp.status_code == 200:
        assert stream_lines(resp)[-1].get("Error"), text
    assert _bound(deps) == ([], [])
    assert apps.envs.get("shop", []) == []
    ops = api.ops()
    if "bind_app" in ops and step != "bind_app":
        assert "unbind_app" in ops  # the API's bind undone


def test_one_unit_failing_unbinds_the_units_bound(
    client: FlaskClient, deps: Deps, apis: FakeClients
) -> None:
    api = apis.api("mysql")
    api.fail_units = {"u2"}
    resp = client.put(BIND, headers=ADMIN)
    assert stream_lines(resp)[-1]["Error"].startswith("instance is not ready yet")
    assert _bound(deps) == ([], [])
    assert api.ops().count("unbind_unit") == 1 and "unbind_app" in api.ops()


def _ghost(apps: MemoryApps, name: str):  # type: ignore[no-untyped-def]
    from services.catalog.domain.models import AppView

    return AppView(name, ("blue",), "blue", "p1", (f"{name}.tsubame.localhost",), units=UNITS)


def test_failed_bind_reports_the_status_it_could_not_read(
    client: FlaskClient, apis: FakeClients
) -> None:
    api = apis.api("mysql")
    api.fail["bind_app"] = errors.ServiceApiError("boom")
    api.fail["status"] = errors.ServiceApiError("status down")
    resp = client.put(BIND, headers=ADMIN)
    assert (resp.status_code, resp.text) == (
        500, "boom (failed to retrieve instance status: status down)\n",
    )  # fmt: skip


def test_disable_bind_unit_skips_unit_calls(
    client: FlaskClient, deps: Deps, apis: FakeClients
) -> None:
    deps.stores.services.add(a_service("quiet", disable_bind_unit=True))
    deps.stores.instances.add(an_instance("q1", service="quiet"))
    assert client.put("/services/quiet/instances/q1/shop", headers=ADMIN).status_code == 200
    assert apis.api("quiet").ops() == ["bind_app"]
    assert deps.stores.instances.get("quiet", "q1").bound_units == []  # type: ignore[union-attr]


def test_pool_constraint(client: FlaskClient, deps: Deps, pools: MemoryPools) -> None:
    deps.stores.services.add(a_service("redis"))
    deps.stores.services.add(a_service("pg"))
    pools.allowed["p1"] = []
    resp = client.put(BIND, headers=ADMIN)
    assert (resp.status_code, resp.text) == (400, "no service found for pool\n")
    pools.allowed["p1"] = ["redis", "pg"]
    resp = client.put(BIND, headers=ADMIN)
    assert resp.text == (
        'service "mysql" is not available for pool "p1". Available services are: "redis, pg"\n'
    )
    pools.allowed["p1"] = ["mysql"]
    assert client.put(BIND, headers=ADMIN).status_code == 200


def test_bind_permission_matrix(client: FlaskClient, deps: Deps) -> None:
    assert client.put("/services/mysql/instances/nope/shop", headers=ADMIN).status_code == 404
    resp = client.put("/services/mysql/instances/db1/ghost", headers=ADMIN)
    assert (resp.status_code, resp.text) == (404, "App ghost not found.\n")
    cases = [
        ((("service-instance.update.bind", "team", "blue"), ("app.update.bind", "team", "blue")), 200),
        ((("service-instance.update.bind", "team", "blue"),), 403),
        ((("app.update.bind", "team", "blue"),), 403),
        # bind names the instance without its service (tsuru 1.11)
        ((("service-instance.update.bind", "service-instance", "db1"),
          ("app.update.bind", "app", "shop")), 200),
        ((("service-instance.update.bind", "service-instance", "mysql/db1"),
          ("app.update.bind", "pool", "p1")), 403),
        ((("service-instance.update.bind", "team", "red"), ("app.update.bind", "team", "blue")), 403),
    ]  # fmt: skip
    for grants, status in cases:
        resp = client.put(BIND, data={"noRestart": "1"}, headers=user(*grants))
        assert resp.status_code == status, (grants, resp.text)
        if status == 200:
            client.delete(BIND, headers=ADMIN).get_data()


def test_unbind(client: FlaskClient, deps: Deps, apis: FakeClients, apps: MemoryApps,
                events: FakeRecorder) -> None:  # fmt: skip
    client.put(BIND, headers=ADMIN).get_data()
    apps.restarts.clear()
    resp = client.delete(BIND, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert messages(resp) == (
        "---- Unsetting 1 environment variables ----\n"
        '---- Restarting the app "shop" ----\n'
        '\nInstance "db1" is not bound to the app "shop" anymore.\n'
    )
    assert _bound(deps) == ([], [])
    assert apps.envs["shop"] == [] and apps.restarts == ["shop"]
    assert events.last().kind.name == "app.update.unbind"
    resp = client.delete(BIND, headers=ADMIN)
    assert (resp.status_code, resp.text) == (400, "app is not bound to this service instance\n")


def test_unbind_api_failure_rolls_back_and_force_goes_on(
    client: FlaskClient, deps: Deps, apis: FakeClients, apps: MemoryApps
) -> None:
    client.put(BIND, data={"noRestart": "true"}, headers=ADMIN).get_data()
    api = apis.api("mysql")
    api.fail["unbind_app"] = errors.ServiceApiError(
        'Failed to unbind ("/resources/db1/bind-app"): x'
    )
    resp = client.delete(BIND + "?noRestart=true", headers=ADMIN)
    assert resp.status_code == 500
    apps_, units = _bound(deps)
    assert apps_ == ["shop"] and len(units) == 2  # units bound again, app still bound
    assert len(apps.envs["shop"]) == 1
    owner_only = user(("service-instance", "team", "blue"), ("app", "team", "blue"))
    assert client.delete(BIND + "?force=true", headers=owner_only).status_code == 403
    resp = client.delete(BIND + "?force=true&noRestart=true", headers=ADMIN)
    assert resp.status_code == 200
    assert "[unbind-app-endpoint] ignored error due to force: Failed to unbind" in messages(resp)
    assert _bound(deps) == ([], []) and apps.envs["shop"] == []


def test_unbind_tolerates_an_instance_gone_from_the_api(
    client: FlaskClient, deps: Deps, apis: FakeClients
) -> None:
    client.put(BIND, headers=ADMIN).get_data()
    apis.api("mysql").fail["unbind_app"] = errors.InstanceNotFoundInApi()
    assert client.delete(BIND, headers=ADMIN).status_code == 200
    assert _bound(deps) == ([], [])


def test_unbind_unit_failure_binds_back_the_others(
    client: FlaskClient, deps: Deps, apis: FakeClients
) -> None:
    client.put(BIND, headers=ADMIN).get_data()
    apis.api("mysql").fail["unbind_unit"] = errors.InstanceNotFoundInApi()
    resp = client.delete(BIND, headers=ADMIN)
    assert resp.status_code == 500
    apps_, units = _bound(deps)
    assert apps_ == ["shop"] and sorted(u.id for u in units) == ["u1", "u2"]
