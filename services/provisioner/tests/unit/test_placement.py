"""Placement rules (apps.md §2.3) and the catalog's pool calls, over the internal API."""

from __future__ import annotations

from services.provisioner.domain.models import Constraint, DynamicRouter, PlatformVersion, Pool
from services.provisioner.operations.deps import Deps
from services.provisioner.tests.unit.conftest import Caller
from shared.identity import internal_identity

INTERNAL = internal_identity("apps")


def place(call: Caller, **body: object) -> object:
    return call("POST", "/internal/placement", who=INTERNAL, json=body)


def test_defaults_on_a_fresh_stack(call: Caller) -> None:
    resp = place(call, team_owner="blue")
    assert resp.status_code == 200
    assert resp.json == {
        "pool": "theonepool", "provisioner": "process", "cluster": "",
        "plan": {"name": "c0.1m0.2", "memory": 268435456, "swap": 0, "cpumilli": 100,
                 "cpushare": 0},
        "routers": [{"name": "tsubame", "opts": {}, "type": "gateway"}],
        "platform": "", "platform_version": "", "platform_disabled": False,
    }  # fmt: skip


def test_users_cannot_call_it(call: Caller) -> None:
    assert call("POST", "/internal/placement", json={}).status_code == 401


def test_given_values_and_their_errors(call: Caller, deps: Deps) -> None:
    deps.stores.platforms.add_version("python", PlatformVersion(1, ("tsuru/python:v1",)))
    resp = place(call, team_owner="blue", plan="c1m2", router="none", platform="python:v1",
                 routeropts={"a": "b"})  # fmt: skip
    got = resp.json
    assert (got["plan"]["name"], got["routers"], got["platform"], got["platform_version"]) == (
        "c1m2", [], "python", "v1",
    )  # fmt: skip
    cases = {
        (("platform", "ruby"),): "Invalid platform",
        (("platform", "python:v7"),): "Platform image not found",
        (("pool", "nope"),): "Pool does not exist.",
        (("plan", "nope"),): "plan not found",
        (("router", "nope"),): 'router "nope" not found',
        (("team_owner", "ghost"),): "team not found",
    }
    for pairs, text in cases.items():
        body = {"team_owner": "blue", **dict(pairs)}
        resp = place(call, **body)
        assert (resp.status_code, resp.text) == (400, text + "\n"), pairs


def test_pool_choice_and_access(call: Caller, deps: Deps) -> None:
    stores = deps.stores
    stores.pools.add(Pool("blue1"))
    stores.constraints.set(Constraint("blue1", "team", ("blue",)))
    assert place(call, team_owner="blue").json["pool"] == "blue1"
    stores.pools.add(Pool("blue2"))
    stores.constraints.set(Constraint("blue2", "team", ("blue",)))
    resp = place(call, team_owner="blue")
    assert resp.text == (
        'you have access to "blue1","blue2","theonepool" pools. Please choose one in app creation\n'
    )
    resp = place(call, team_owner="green", pool="blue1")
    assert resp.text == 'App team owner "green" has no access to pool "blue1"\n'


def test_pool_constraints_choose_plan_and_router(call: Caller, deps: Deps) -> None:
    stores = deps.stores
    stores.pools.add(Pool("p1"))
    stores.routers.add(DynamicRouter("edge", "gateway"))
    stores.constraints.set(Constraint("p1", "plan", ("c2m4",)))
    stores.constraints.set(Constraint("p1", "router", ("edge",)))
    got = place(call, team_owner="blue", pool="p1").json
    assert (got["plan"]["name"], got["routers"][0]["name"]) == ("c2m4", "edge")
    resp = place(call, team_owner="blue", pool="p1", plan="c1m2")
    assert resp.text == 'App plan "c1m2" is not allowed on pool "p1"\n'
    resp = place(call, team_owner="blue", pool="p1", router="tsubame")
    assert resp.text == (
        'router "tsubame" is not available for pool "p1". Available routers are: "edge"\n'
    )
    # Two routers and no constraint: the one flagged default.
    assert place(call, team_owner="blue").json["routers"][0]["name"] == "tsubame"
    # Validating an app's current routers against a new pool.
    resp = place(call, team_owner="blue", pool="p1", routers=[{"name": "tsubame"}])
    assert resp.status_code == 400


def test_disabled_platform_is_reported(call: Caller, deps: Deps) -> None:
    deps.stores.platforms.set_disabled("static", True)
    assert place(call, team_owner="blue", platform="static").json["platform_disabled"] is True


def test_catalog_pool_calls(call: Caller, deps: Deps) -> None:
    deps.stores.pools.add(Pool("p1"))
    deps.stores.constraints.set(Constraint("p1", "service", ("my*",)))
    deps.stores.constraints.set(Constraint("p1", "team", ("blue",)))
    got = call("GET", "/internal/pools/p1", who=INTERNAL).json
    assert got == {"name": "p1", "provisioner": "process", "cluster": None}
    assert call("GET", "/internal/pools/nope", who=INTERNAL).status_code == 404
    resp = call("POST", "/internal/pools/p1/services", who=INTERNAL,
                json={"services": ["mysql", "redis", "mongo"]})  # fmt: skip
    assert resp.json == {"allowed": ["mysql"]}
    resp = call("POST", "/internal/pools/visible", who=INTERNAL, json={"teams": ["blue"]})
    assert resp.json == {"pools": ["p1", "theonepool"]}
    resp = call("POST", "/internal/pools/visible", who=INTERNAL, json={"teams": None})
    assert resp.json == {"pools": ["p1", "theonepool"]}
