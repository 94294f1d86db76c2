"""App routers, swap, unit agent calls and the internal usage routes on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from services.apps.domain.models import App, AppRouter, EnvVar
from services.apps.tests.fakes import fake_deps
from services.apps.tests.unit.conftest import admin, app_token, build, call, user
from shared.identity import internal_identity


@pytest.fixture
def deps():  # type: ignore[no-untyped-def]
    d = fake_deps()
    d.provisioner.routers = ["tsubame", "edge"]
    for name, cnames in (("shop", ["www.shop.com"]), ("blog", ["blog.com"])):
        d.stores.apps.add(App(name, pool="default", team_owner="blue", teams=["blue"],
                              platform="python", routers=[AppRouter("tsubame")], cnames=cnames,
                              env={"A": EnvVar("A", "1")}))  # fmt: skip
        for c in cnames:
            d.stores.cnames.claim(c, name)
    return d


@pytest.fixture
def client(deps):  # type: ignore[no-untyped-def]
    return build(deps)


def dev(*perms: str) -> Any:
    return user("dev@example.com", *[(p, "team", "blue") for p in perms])


def test_routers_list_add_update_remove(client, deps):
    r = call(client, "GET", "/apps/shop/routers", dev("app.read.router"))
    assert r.get_json() == [{"name": "tsubame", "opts": {}, "address": "shop.tsubame.localhost",
                             "addresses": None, "type": ""}]  # fmt: skip
    r = call(client, "POST", "/apps/shop/routers", dev("app.update.router.add"),
             json={"name": "edge", "opts": {"k": "v"}})  # fmt: skip
    assert r.status_code == 200
    assert deps.stores.apps.get("shop").routers[1] == AppRouter("edge", {"k": "v"})
    assert deps.provisioner.sent[-1].command == "routes.rebuild"
    r = call(client, "POST", "/app/shop/routers", admin(), data={"name": "edge"})
    assert (r.status_code, r.text) == (409, "router already linked to this app\n")
    r = call(client, "POST", "/apps/shop/routers", user("x@e.com"), data={"name": "ghost"})
    assert (r.status_code, r.text) == (404, 'router "ghost" not found\n')  # before the permission
    r = call(client, "PUT", "/apps/shop/routers/edge", admin(), data={"opts.a": "b"})
    assert r.status_code == 200 and deps.stores.apps.get("shop").routers[1].opts == {"a": "b"}
    r = call(client, "DELETE", "/apps/shop/routers/edge", dev("app.update.router.remove"))
    assert r.status_code == 200 and len(deps.stores.apps.get("shop").routers) == 1
    r = call(client, "DELETE", "/apps/shop/routers/edge", admin())
    assert (r.status_code, r.text) == (404, 'router "edge" not found\n')
    call(client, "DELETE", "/apps/shop/routers/tsubame", admin())
    assert call(client, "GET", "/apps/shop/routers", admin()).status_code == 204


def test_routable(client, deps):
    r = call(client, "POST", "/apps/shop/routable", dev("app.update.routable"),
             json={"version": "3", "isRoutable": True})  # fmt: skip
    assert r.status_code == 200
    assert deps.provisioner.sent[-1].args == {"version": 3, "routable": True}
    r = call(client, "POST", "/apps/shop/routable", admin(), data={"version": "x"})
    assert (r.status_code, r.text) == (400, "Invalid version: x\n")


def test_swap_rules_and_effect(client, deps):
    deps.provisioner.units_by_app["shop"] = [{"ID": "u1", "Status": "started"}]
    r = call(client, "POST", "/swap", dev("app.update.swap"), data={"app1": "shop", "app2": "blog"})
    assert (r.status_code, r.text) == (412, "number of units doesn't match\n")
    r = call(client, "POST", "/swap", admin(), data={"app1": "shop", "app2": "ghost"})
    assert (r.status_code, r.text) == (404, "App ghost not found.\n")
    r = call(client, "POST", "/swap", admin(), data={"app1": "shop", "app2": "blog", "force": "0"})
    assert r.status_code == 200
    shop, blog = deps.stores.apps.get("shop"), deps.stores.apps.get("blog")
    assert (shop.cnames, blog.cnames) == (["blog.com"], ["www.shop.com"])
    assert (shop.swapped_with, blog.swapped_with) == ("blog", "shop")
    assert deps.stores.cnames.owner("blog.com") == "shop"
    sent = deps.provisioner.sent[-1]
    assert (sent.command, sent.args["other"]["name"], sent.args["cname_only"]) == (
        "swap",
        "blog",
        False,
    )
    info = call(client, "GET", "/apps/shop", admin()).get_json()
    assert info["ip"] == "blog.tsubame.localhost"
    call(client, "POST", "/swap", admin(), data={"app1": "blog", "app2": "shop", "force": "true"})
    assert deps.stores.apps.get("shop").swapped_with == ""
    deps.stores.apps.update("blog", {"platform": "go"})
    r = call(
        client, "POST", "/swap", admin(), data={"app1": "shop", "app2": "blog", "force": "false"}
    )
    assert (r.status_code, r.text) == (412, "platforms don't match\n")
    assert (
        call(client, "POST", "/swap", dev(), data={"app1": "shop", "app2": "blog"}).status_code
        == 403
    )


def test_unit_agent_register_and_status(client, deps):
    deps.provisioner.units_by_app["shop"] = [{"ID": "u1", "Status": "started"}]
    body = "hostname=u1&customdata=%7B%22processes%22%3A%7B%22web%22%3A%22x%22%7D%7D"
    r = call(client, "POST", "/apps/shop/units/register", app_token("shop"), data=body,
             content_type="text/plain")  # fmt: skip
    assert r.status_code == 200
    names = {e["name"]: e["value"] for e in r.get_json()}
    assert names["A"] == "1" and "TSURU_SERVICES" in names
    assert deps.provisioner.registered == [("shop", "u1", {"processes": {"web": "x"}})]
    r = call(client, "POST", "/apps/shop/units/register", app_token("shop"), data="hostname=u1",
             headers_extra={"User-Agent": "Go-http-client/1.1"})  # fmt: skip
    assert r.status_code == 400 and r.text.startswith("Please contact admin. python platform")
    r = call(client, "POST", "/apps/shop/units/u1", app_token("shop"), data={"status": "started"})
    assert r.status_code == 200 and deps.provisioner.statuses == [("shop", "u1", "started")]
    r = call(client, "POST", "/apps/shop/units/u1", app_token("shop"), data={"status": "bogus"})
    assert (r.status_code, r.text) == (400, "invalid status\n")
    r = call(client, "POST", "/apps/blog/units/u1", app_token("shop"), data={"status": "started"})
    assert r.status_code == 403
    assert deps.recorder.records == []  # no event for agent calls


def test_internal_usage_routes(client, deps):
    r = call(client, "GET", "/internal/teams/blue/usage", internal_identity("auth"))
    assert r.get_json() == {"apps": ["shop", "blog"]}
    assert call(client, "GET", "/internal/pools/default/usage", internal_identity("p")).get_json() == {
        "apps": ["shop", "blog"]}  # fmt: skip
    assert call(client, "GET", "/internal/platforms/go/usage", internal_identity("p")).get_json() == {
        "apps": []}  # fmt: skip
    assert call(client, "GET", "/internal/teams/blue/usage", admin()).status_code == 401


def test_team_owned_apps_for_auths_team_info(client, deps):
    deps.stores.apps.add(App("guest", pool="default", team_owner="red", teams=["red", "blue"]))
    r = call(client, "GET", "/internal/teams/blue/apps", internal_identity("auth"))
    assert [a["name"] for a in r.get_json()] == ["shop", "blog"]
    assert r.get_json()[0]["teamowner"] == "blue" and r.get_json()[0]["units"] == []


def test_addresses_carry_the_gateways_public_port(deps):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from services.apps.settings import from_env

    secret = {"TSUBAME_IDENTITY_SECRET": "s" * 16}
    assert from_env({**secret, "TSUBAME_PORT": "8080"}).apps_port == 8080
    for url, port in (("https://tsubame.example.com", 0), ("http://tsubame.example.com:80", 0),
                      ("https://tsubame.example.com:8443", 8443)):  # fmt: skip
        assert from_env({**secret, "TSUBAME_PUBLIC_URL": url}).apps_port == port, url
    deps.config = replace(deps.config, apps_port=8080)
    client = build(deps)
    assert call(client, "GET", "/apps/shop", admin()).get_json()["ip"] == (
        "shop.tsubame.localhost:8080"
    )
    listed = call(client, "GET", "/apps", admin()).get_json()
    assert {a["ip"] for a in listed} == {
        "shop.tsubame.localhost:8080",
        "blog.tsubame.localhost:8080",
    }
    r = call(client, "GET", "/apps/shop/routers", admin())
    assert r.get_json()[0]["address"] == "shop.tsubame.localhost:8080"
