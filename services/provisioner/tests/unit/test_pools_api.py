"""Pools and constraints over HTTP on fakes: shapes, errors, events, visibility."""

from __future__ import annotations

from services.provisioner.domain.models import Constraint, Pool
from services.provisioner.operations.deps import AppRef, Deps
from services.provisioner.tests.unit.conftest import Caller, user
from shared.testing.events import FakeRecorder


def test_fresh_stack_lists_theonepool(call: Caller) -> None:
    resp = call("GET", "/pools")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    [pool] = resp.json
    assert list(pool) == ["allowed", "default", "labels", "name", "provisioner", "public", "teams"]
    assert pool["name"] == "theonepool" and pool["default"] and pool["public"]
    assert pool["teams"] == ["blue", "green"]
    assert list(pool["allowed"]) == ["plan", "router", "service", "team", "volume-plan"]
    assert pool["allowed"]["router"] == ["tsubame"]
    assert pool["allowed"]["service"] is None
    assert pool["allowed"]["volume-plan"] == ["local"]
    assert len(pool["allowed"]["plan"]) == 22
    assert pool["labels"] == {} and pool["provisioner"] == ""


def test_create_pool_and_its_event(call: Caller, deps: Deps, events: FakeRecorder) -> None:
    resp = call("POST", "/pools", data={"name": "p1", "labels.zone": "a", "provisioner": "process"})
    assert (resp.status_code, resp.data) == (201, b"")
    got = call("GET", "/pools/p1").json
    assert (got["labels"], got["provisioner"], got["public"], got["default"]) == (
        {"zone": "a"}, "process", False, False,
    )  # fmt: skip
    # No team constraint: every team is allowed, though the pool is not public.
    assert got["teams"] == ["blue", "green"]
    evt = events.records[-1]
    assert (evt.kind.name, evt.target.type, evt.target.value, evt.error) == (
        "pool.create", "pool", "p1", "",
    )  # fmt: skip
    assert {"name": "name", "value": "p1"} in evt.start_custom_data


def test_create_pool_errors(call: Caller, events: FakeRecorder) -> None:
    before = len(events.records)
    resp = call("POST", "/pools", data={"name": ""})
    assert (resp.status_code, resp.text) == (400, "Pool name is required.\n")
    assert len(events.records) == before  # refused before the event, as tsuru
    resp = call("POST", "/pools", data={"name": "Bad_Name"})
    assert resp.status_code == 400 and resp.text.startswith("Invalid pool name")
    assert events.records[-1].error.startswith("Invalid pool name")
    resp = call("POST", "/pools", data={"name": "theonepool"})
    assert (resp.status_code, resp.text) == (409, "Pool already exists.\n")
    resp = call("POST", "/pools", data={"name": "d2", "default": "true"})
    assert (resp.status_code, resp.text) == (409, "Default pool already exists.\n")
    assert call("GET", "/pools/d2").status_code == 404  # nothing left behind
    resp = call("POST", "/pools", data={"name": "x", "labels.affinity": "{nope"})
    assert resp.status_code == 400
    resp = call("POST", "/pools", data={"name": "x", "public": "maybe"})
    assert resp.status_code == 400 and "unable to decode form" in resp.text
    resp = call("POST", "/pools", data={"name": "x"}, who=user("pool.read"))
    assert resp.status_code == 403


def test_default_with_force_moves_the_flag(call: Caller) -> None:
    resp = call("POST", "/pools", json={"name": "d2", "default": True, "force": True})
    assert resp.status_code == 201
    listed = {p["name"]: p for p in call("GET", "/pools").json}
    assert listed["d2"]["default"] and listed["d2"]["public"]
    assert not listed["theonepool"]["default"]


def test_update_pool(call: Caller) -> None:
    call("POST", "/pools", data={"name": "p1"})
    assert call("PUT", "/pools/p1", data={"public": "true"}).status_code == 200
    assert call("GET", "/pools/p1").json["public"] is True
    assert call("PUT", "/pools/p1", json={"public": False, "labels": {"a": "b"}}).status_code == 200
    got = call("GET", "/pools/p1").json
    assert (got["public"], got["labels"]) == (False, {"a": "b"})
    resp = call("PUT", "/pools/p1", data={"default": "true"})
    assert (resp.status_code, resp.text) == (409, "Default pool already exists.\n")
    assert call("PUT", "/pools/p1", data={"default": "true", "force": "true"}).status_code == 200
    assert call("GET", "/pools/p1").json["default"] is True
    assert call("GET", "/pools/theonepool").json["default"] is False
    resp = call("PUT", "/pools/nope", data={"public": "true"})
    assert (resp.status_code, resp.text) == (404, "Pool does not exist.\n")
    # pool.update is checked without the pool's context: a pool grant is not enough.
    resp = call(
        "PUT", "/pools/p1", data={"public": "true"}, who=user(("pool.update", "pool", "p1"))
    )
    assert resp.status_code == 403


def test_remove_pool(call: Caller, apps, deps: Deps) -> None:  # type: ignore[no-untyped-def]
    call("POST", "/pools", data={"name": "p1"})
    apps.apps["a"] = AppRef("a", "blue", ("blue",), "p1")
    resp = call("DELETE", "/pools/p1")
    assert resp.status_code == 403
    assert resp.text.startswith("This pool has apps")
    del apps.apps["a"]
    assert call("DELETE", "/pools/p1").status_code == 200
    resp = call("DELETE", "/pools/p1")
    assert (resp.status_code, resp.text) == (404, "Pool does not exist.\n")


def test_pool_teams(call: Caller, deps: Deps) -> None:
    call("POST", "/pools", data={"name": "p1"})
    assert call("POST", "/pools/p1/team", data={"team": ["blue", "green"]}).status_code == 200
    assert call("GET", "/pools/p1").json["teams"] == ["blue", "green"]
    resp = call("POST", "/pools/p1/team", json={"team": "blue"})
    assert (resp.status_code, resp.text) == (400, "Team already exists in pool.\n")
    resp = call("POST", "/pools/p1/team")
    assert (resp.status_code, resp.text) == (400, "You must provide the team.\n")
    resp = call("POST", "/pools/theonepool/team", data={"team": "blue"})
    assert (resp.status_code, resp.text) == (400, "Public/Default pool can't have teams.\n")
    resp = call("POST", "/pools/nope/team", data={"team": "blue"})
    assert resp.status_code == 404
    # The team list comes from the query only.
    resp = call("DELETE", "/pools/p1/team", data={"team": "blue"})
    assert (resp.status_code, resp.text) == (400, "You must provide the team\n")
    assert call("DELETE", "/pools/p1/team?team=blue").status_code == 200
    assert call("GET", "/pools/p1").json["teams"] == ["green"]
    resp = call("DELETE", "/pools/theonepool/team?team=blue")
    assert resp.status_code == 200  # tsuru pulls from the "*" constraint: nothing changes
    call("POST", "/pools", data={"name": "p2"})
    resp = call("DELETE", "/pools/p2/team?team=blue")
    assert (resp.status_code, resp.text) == (404, "not found\n")
    deps.stores.constraints.set(Constraint("p2", "team", ("x",), blacklist=True))
    resp = call("POST", "/pools/p2/team", data={"team": "blue"})
    assert resp.text == "Unable to add teams to blacklist constraint\n"


def test_pool_team_permission_is_in_the_pool_context(call: Caller) -> None:
    call("POST", "/pools", data={"name": "p1"})
    mine = user(("pool.update.team.add", "pool", "p1"))
    assert call("POST", "/pools/p1/team", data={"team": "blue"}, who=mine).status_code == 200
    other = user(("pool.update.team.add", "pool", "p2"))
    assert call("POST", "/pools/p1/team", data={"team": "green"}, who=other).status_code == 403


def test_get_pool_refuses_before_it_looks(call: Caller) -> None:
    outsider = user(("pool.read", "pool", "other"))
    assert call("GET", "/pools/nope", who=outsider).status_code == 403
    assert call("GET", "/pools/theonepool", who=user(("pool.read", "pool", "theonepool"))).json


def test_pool_list_visibility(call: Caller, deps: Deps) -> None:
    deps.stores.pools.add(Pool("blue-only"))
    deps.stores.constraints.set(Constraint("blue-only", "team", ("blue",)))
    deps.stores.pools.add(Pool("named"))
    deps.stores.pools.add(Pool("green-glob"))
    deps.stores.constraints.set(Constraint("green-glob", "team", ("gr*",)))

    def names(who):  # type: ignore[no-untyped-def]
        resp = call("GET", "/pools", who=who)
        return [] if resp.status_code == 204 else [p["name"] for p in resp.json]

    assert names(user(("app.create", "team", "blue"))) == ["theonepool", "blue-only"]
    assert names(user(("app.create", "team", "green"))) == ["theonepool", "green-glob"]
    assert names(user(("pool.read", "pool", "named"), ("app.create", "team", "zzz"))) == [
        "theonepool", "named",
    ]  # fmt: skip
    # No team context at all: public pools only (tsuru also lists private ones).
    assert names(user("team.read")) == ["theonepool"]
    assert names(user(("pool.read", "pool", "nope"), ("app.create", "team", "zzz"))) == [
        "theonepool"
    ]
    assert names(user("app.create")) == ["theonepool", "blue-only", "named", "green-glob"]
    deps.stores.constraints.set(Constraint("theonepool", "team", ()))
    assert call("GET", "/pools", who=user(("app.create", "team", "zzz"))).status_code == 204


def test_constraints(call: Caller, events: FakeRecorder) -> None:
    resp = call("PUT", "/constraints", data={"PoolExpr": "p*", "Field": "router",
                                             "Values.0": "tsubame", "Blacklist": "true"})  # fmt: skip
    assert resp.status_code == 200
    assert events.records[-1].target.value == "p*"
    resp = call("PUT", "/constraints?append=true", json={"poolexpr": "p*", "field": "router",
                                                         "values": ["x"]})  # fmt: skip
    assert resp.status_code == 200
    listed = call("GET", "/constraints").json
    assert {"PoolExpr": "p*", "Field": "router", "Values": ["tsubame", "x"],
            "Blacklist": True} in listed  # fmt: skip
    resp = call("PUT", "/constraints", data={"PoolExpr": "p*", "Field": "bogus", "Values.0": "a"})
    assert resp.status_code == 400
    assert resp.text == (
        "invalid constraint type. Valid types are: [team service router plan volume-plan]\n"
    )
    resp = call("PUT", "/constraints", data={"Field": "team"})
    assert (resp.status_code, resp.text) == (400, "You must provide a Pool Expression\n")
    assert (
        call("PUT", "/constraints", data={"PoolExpr": "p*", "Field": "router"}).status_code == 200
    )
    assert not any(c["PoolExpr"] == "p*" for c in call("GET", "/constraints").json)
    assert (
        call("GET", "/constraints", who=user(("pool.read.constraints", "pool", "p"))).status_code
        == 403
    )


def test_effective_constraint_filters_allowed_names(call: Caller) -> None:
    call("POST", "/pools", data={"name": "prod-a"})
    call("PUT", "/constraints", json={"PoolExpr": "prod-*", "Field": "plan", "Values": ["c1*"]})
    call("PUT", "/constraints", json={"PoolExpr": "*", "Field": "plan", "Values": ["c2*"]})
    got = call("GET", "/pools/prod-a").json
    assert got["allowed"]["plan"] == ["c16m16", "c16m8", "c1m1", "c1m2", "c1m4"]
    call("PUT", "/constraints", json={"PoolExpr": "prod-*", "Field": "plan", "Values": ["c1*"],
                                      "Blacklist": True})  # fmt: skip
    got = call("GET", "/pools/prod-a").json
    assert "c1m1" not in got["allowed"]["plan"] and "c2m2" in got["allowed"]["plan"]
