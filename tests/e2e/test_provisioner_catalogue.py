"""The provisioner's catalogue through the gateway: the fresh stack's seed, pools and
constraints with their permission matrix, plans, platforms, routers."""

from __future__ import annotations

import json
import secrets

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def _name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def test_fresh_stack_catalogue(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    pools = requests.get(f"{stack.url}/pools", headers=admin).json()
    one = next(p for p in pools if p["name"] == "theonepool")
    assert (one["default"], one["public"], one["provisioner"]) == (True, True, "")
    plans = requests.get(f"{stack.url}/1.0/plans", headers=admin).json()
    assert len(plans) >= 22
    assert [p["name"] for p in plans if p.get("default")] == ["c0.1m0.2"]
    names = [p["Name"] for p in requests.get(f"{stack.url}/platforms", headers=admin).json()]
    assert {"python", "static"} <= set(names)
    routers = requests.get(f"{stack.url}/routers", headers=admin).json()
    assert {"name": "tsubame", "type": "gateway", "info": None, "config": None,
            "readinessGates": None, "dynamic": False, "default": True} in routers  # fmt: skip


def test_pool_lifecycle_and_events(stack: Stack, admin_token: str, recorded_events) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(admin_token)
    name = _name("p")
    resp = requests.post(f"{stack.url}/pools", data={"name": name}, headers=admin)
    assert (resp.status_code, resp.text) == (201, "")
    [evt] = recorded_events("pool.create", name)
    assert evt["target"] == {"type": "pool", "value": name} and evt["error"] == ""
    resp = requests.post(f"{stack.url}/pools", data={"name": name}, headers=admin)
    assert (resp.status_code, resp.text) == (409, "Pool already exists.\n")
    resp = requests.post(f"{stack.url}/1.0/pools/{name}/team", data={"team": "ghost-team"},
                         headers=admin)  # fmt: skip
    assert resp.status_code == 200
    got = requests.get(f"{stack.url}/1.8/pools/{name}", headers=admin).json()
    assert got["teams"] is None  # the team is allowed but does not exist
    resp = requests.put(f"{stack.url}/pools/{name}", data={"public": "true"}, headers=admin)
    assert resp.status_code == 200
    assert requests.get(f"{stack.url}/pools/{name}", headers=admin).json()["public"] is True
    resp = requests.delete(f"{stack.url}/pools/{name}", headers=admin)
    assert resp.status_code == 200
    resp = requests.get(f"{stack.url}/pools/{name}", headers=admin)
    assert (resp.status_code, resp.text) == (404, "Pool does not exist.\n")


def test_pool_permission_matrix(stack: Stack, admin_token: str, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(admin_token)
    name = _name("m")
    requests.post(f"{stack.url}/pools", data={"name": name}, headers=admin)
    _, in_pool = make_user(("pool", ["pool.read", "pool.update.team.add"], name))
    _, elsewhere = make_user(("pool", ["pool.read", "pool.update.team.add"], "other"))
    _, global_reader = make_user(("global", ["pool.read"], ""))
    _, nothing = make_user()
    cases = [
        (in_pool, "GET", f"/pools/{name}", None, 200),
        (elsewhere, "GET", f"/pools/{name}", None, 403),
        (global_reader, "GET", f"/pools/{name}", None, 200),
        (nothing, "GET", f"/pools/{name}", None, 403),
        (in_pool, "POST", f"/pools/{name}/team", {"team": "t1"}, 200),
        (elsewhere, "POST", f"/pools/{name}/team", {"team": "t2"}, 403),
        # Create, update and delete are checked globally: a pool grant is not enough.
        (in_pool, "PUT", f"/pools/{name}", {"public": "true"}, 403),
        (in_pool, "DELETE", f"/pools/{name}", None, 403),
        (global_reader, "POST", "/pools", {"name": _name("x")}, 403),
        (nothing, "GET", "/constraints", None, 403),
        (global_reader, "PUT", "/constraints", {"PoolExpr": name, "Field": "team"}, 403),
    ]
    for token, method, path, data, status in cases:
        resp = requests.request(method, f"{stack.url}{path}", data=data, headers=bearer(token))
        assert resp.status_code == status, (method, path, resp.text)
    listed = requests.get(f"{stack.url}/pools", headers=bearer(in_pool)).json()
    assert name in [p["name"] for p in listed]
    _, other_team = make_user(("team", ["app.create"], "zzz"))
    resp = requests.get(f"{stack.url}/pools", headers=bearer(other_team))
    assert resp.status_code == 200 and name not in [p["name"] for p in resp.json()]
    # A caller with no team context sees the public pools only (tsuru: every pool
    # with a team list, private ones and their teams included).
    resp = requests.get(f"{stack.url}/pools", headers=bearer(elsewhere))
    assert resp.status_code == 200
    assert name not in [p["name"] for p in resp.json()]
    assert all(p["public"] for p in resp.json())


def test_constraints_plans_routers(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    expr = _name("c") + "-*"
    resp = requests.put(f"{stack.url}/1.3/constraints",
                        json={"PoolExpr": expr, "Field": "volume-plan", "Values": ["local"]},
                        headers=admin)  # fmt: skip
    assert resp.status_code == 200
    listed = requests.get(f"{stack.url}/constraints", headers=admin).json()
    assert {"PoolExpr": expr, "Field": "volume-plan", "Values": ["local"],
            "Blacklist": False} in listed  # fmt: skip
    plan = _name("plan")
    resp = requests.post(f"{stack.url}/plans", data={"name": plan, "memory": "64M"}, headers=admin)
    assert resp.status_code == 201 and json.loads(resp.text)["memory"] == 64 * 1024 * 1024
    assert requests.delete(f"{stack.url}/plans/{plan}", headers=admin).status_code == 200
    router = _name("r")
    resp = requests.post(f"{stack.url}/1.8/routers", json={"name": router, "type": "gateway"},
                         headers=admin)  # fmt: skip
    assert resp.status_code == 201
    assert router in [r["name"] for r in requests.get(f"{stack.url}/routers", headers=admin).json()]
    assert requests.delete(f"{stack.url}/routers/{router}", headers=admin).status_code == 200


def test_platform_upload_through_the_gateway(stack: Stack, admin_token: str) -> None:
    admin = bearer(admin_token)
    name = _name("plat")
    files = {"dockerfile_content": ("Dockerfile", b"FROM busybox\nRUN true\n")}
    resp = requests.post(f"{stack.url}/platforms", data={"name": name}, files=files,
                         headers=admin)  # fmt: skip
    assert resp.status_code == 200
    lines = [json.loads(x) for x in resp.text.splitlines() if x.strip()]
    assert lines[-1] == {"Message": "Platform successfully added!\n",
                         "Timestamp": lines[-1]["Timestamp"]}  # fmt: skip
    info = requests.get(f"{stack.url}/1.6/platforms/{name}", headers=admin).json()
    assert info == {"platform": {"Name": name, "Disabled": False}, "images": [f"tsuru/{name}:v1"]}
    resp = requests.post(f"{stack.url}/platforms/{name}/rollback", data={"image": "1"},
                         headers=admin)  # fmt: skip
    assert resp.status_code == 200 and "Platform successfully updated!" in resp.text
    info = requests.get(f"{stack.url}/platforms/{name}", headers=admin).json()
    assert info["images"] == [f"tsuru/{name}:v1", f"tsuru/{name}:v2"]
    assert requests.delete(f"{stack.url}/platforms/{name}", headers=admin).status_code == 200
