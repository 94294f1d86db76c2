"""Team access, app quota, cnames, certificates, routes (apps.md §9) on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from services.apps.domain.models import App, AppRouter
from services.apps.operations.deps import Config
from services.apps.tests.certs import pair
from services.apps.tests.fakes import fake_deps
from services.apps.tests.unit.conftest import admin, build, call, user
from shared.bus import keys


@pytest.fixture
def deps():  # type: ignore[no-untyped-def]
    d = fake_deps()
    d.auth.teams = ["blue", "red", "green"]
    for name in ("shop", "blog"):
        d.stores.apps.add(App(name, pool="default", team_owner="blue", teams=["blue"],
                              routers=[AppRouter("tsubame", {}, "gateway")]))  # fmt: skip
    return d


@pytest.fixture
def client(deps):  # type: ignore[no-untyped-def]
    return build(deps)


def dev(*perms: str) -> Any:
    return user("dev@example.com", *[(p, "team", "blue") for p in perms])


def test_grant_and_revoke(client, deps):
    assert call(client, "PUT", "/apps/shop/teams/red", dev("app.update.grant")).status_code == 200
    r = call(client, "PUT", "/apps/shop/teams/red", dev("app.update.grant"))
    assert (r.status_code, r.text) == (409, "team already have access to this app\n")
    r = call(client, "PUT", "/apps/shop/teams/ghost", dev("app.update.grant"))
    assert (r.status_code, r.text) == (404, "Team not found\n")
    assert call(client, "PUT", "/apps/shop/teams/green", dev()).status_code == 403
    r = call(client, "DELETE", "/apps/shop/teams/green", dev("app.update.revoke"))
    assert (r.status_code, r.text) == (404, "team does not have access to this app\n")
    assert (
        call(client, "DELETE", "/apps/shop/teams/blue", dev("app.update.revoke")).status_code == 200
    )
    # The last team cannot go, whoever is named.
    r = call(client, "DELETE", "/apps/shop/teams/green", admin())
    assert r.status_code == 403 and r.text.startswith("You can not revoke the access")
    assert deps.stores.apps.get("shop").teams == ["red"]
    kinds = [e.kind.name for e in deps.recorder.records]
    assert kinds.count("app.update.grant") == 3 and kinds.count("app.update.revoke") == 3


def test_quota(client, deps):
    deps.provisioner.units_by_app["shop"] = [
        {"ID": "a", "Status": "started"}, {"ID": "b", "Status": "error"},
        {"ID": "c", "Status": "asleep"},
    ]  # fmt: skip
    r = call(client, "GET", "/apps/shop/quota", dev("app.read"))
    assert r.get_json() == {"limit": -1, "inuse": 2}
    put = lambda v: call(client, "PUT", "/apps/shop/quota", dev("app.admin.quota"),  # noqa: E731
                         data={"limit": v})  # fmt: skip
    assert put("5").status_code == 200 and deps.stores.apps.get("shop").quota_limit == 5
    assert put("-7").status_code == 200 and deps.stores.apps.get("shop").quota_limit == -1
    assert (put("x").status_code, put("x").text) == (400, "Invalid limit\n")
    r = put("1")
    assert (r.status_code, r.text) == (403, "New limit is less than the current allocated value\n")
    failed = [e for e in deps.recorder.records if e.error]
    assert {e.kind.name for e in failed} == {"app.admin.quota"}


def test_cnames_unique_across_apps_and_routes_rebuilt(client, deps):
    r = call(client, "POST", "/apps/shop/cname", dev("app.update.cname.add"),
             data={"cname": ["www.shop.com", "*.shop.io"]})  # fmt: skip
    assert r.status_code == 200 and r.text == ""
    assert deps.stores.apps.get("shop").cnames == ["www.shop.com", "*.shop.io"]
    assert deps.provisioner.sent[-1].command == "routes.rebuild"
    assert deps.provisioner.sent[-1].app["cnames"] == ["www.shop.com", "*.shop.io"]
    r = call(
        client,
        "POST",
        "/apps/blog/cname",
        admin(),
        json={"cname": ["new.blog.com", "www.shop.com"]},
    )
    assert (r.status_code, r.text) == (409, "cname already exists!\n")
    assert (
        deps.stores.apps.get("blog").cnames == []
        and deps.stores.cnames.owner("new.blog.com") is None
    )
    for bad in ("-bad.com", "a", "x y.com", ""):
        r = call(client, "POST", "/apps/blog/cname", admin(), data={"cname": bad})
        assert (r.status_code, r.text) == (400, "Invalid cname\n"), bad
    r = call(client, "POST", "/apps/blog/cname", admin())
    assert (r.status_code, r.text) == (400, "You must provide the cname.\n")
    r = call(client, "DELETE", "/apps/blog/cname?cname=www.shop.com", admin())
    assert (r.status_code, r.text) == (404, "cname www.shop.com not exists in app\n")
    r = call(
        client, "DELETE", "/apps/shop/cname?cname=www.shop.com", dev("app.update.cname.remove")
    )
    assert r.status_code == 200 and deps.stores.apps.get("shop").cnames == ["*.shop.io"]
    assert (
        call(
            client, "POST", "/apps/blog/cname", admin(), data={"cname": "www.shop.com"}
        ).status_code
        == 200
    )


def test_a_failing_route_rebuild_gives_the_cname_back(client, deps):
    deps.provisioner.command_error = "router down"
    r = call(client, "POST", "/apps/shop/cname", admin(), data={"cname": "www.shop.com"})
    assert r.status_code == 500 and r.text == "router down\n"
    assert (
        deps.stores.apps.get("shop").cnames == []
        and deps.stores.cnames.owner("www.shop.com") is None
    )


def test_certificates(client, deps):
    call(client, "POST", "/apps/shop/cname", admin(), data={"cname": "www.shop.com"})
    cert, key = pair("www.shop.com")
    other_cert, other_key = pair("elsewhere.com")
    form = {"cname": "www.shop.com", "certificate": cert, "key": key}
    r = call(client, "PUT", "/apps/shop/certificate", dev("app.update.certificate.set"), data=form)
    assert r.status_code == 200, r.text
    assert (keys.CERTIFICATES_CHANGED, {"app": "shop", "cname": "www.shop.com"}) in deps.publisher
    evt = deps.recorder.records[-1]
    assert {f["name"]: f["value"] for f in evt.start_custom_data}["key"] == "*****"
    r = call(client, "GET", "/apps/shop/certificate", dev("app.read.certificate"))
    assert r.get_json() == {"tsubame": {"shop.tsubame.localhost": "", "www.shop.com": cert}}
    cases = [
        ({"cname": "", "certificate": cert, "key": key}, "You must provide a cname."),
        ({"cname": "nope.com", "certificate": cert, "key": key}, "invalid name"),
        (
            {"cname": "www.shop.com", "certificate": "junk", "key": key},
            "tls: failed to find any PEM data in certificate input",
        ),  # fmt: skip
        (
            {"cname": "www.shop.com", "certificate": cert, "key": other_key},
            "tls: private key does not match public key",
        ),  # fmt: skip
        (
            {"cname": "www.shop.com", "certificate": other_cert, "key": other_key},
            "x509: certificate is valid for elsewhere.com, not www.shop.com",
        ),  # fmt: skip
    ]
    for data, text in cases:
        r = call(client, "PUT", "/apps/shop/certificate", admin(), data=data)
        assert (r.status_code, r.text) == (400, text + "\n")
    wild_cert, wild_key = pair("*.tsubame.localhost")
    r = call(client, "PUT", "/apps/shop/certificate", admin(),
             data={"cname": "shop.tsubame.localhost", "certificate": wild_cert, "key": wild_key})  # fmt: skip
    assert r.status_code == 200
    r = call(client, "DELETE", "/apps/shop/certificate?cname=www.shop.com", admin())
    assert r.status_code == 200
    shown = call(client, "GET", "/apps/shop/certificate", admin()).get_json()["tsubame"]
    assert shown == {"shop.tsubame.localhost": wild_cert, "www.shop.com": ""}
    r = call(client, "DELETE", "/apps/shop/certificate", admin())
    assert (r.status_code, r.text) == (400, "You must provide a cname.\n")


def test_routes_rebuild_and_metric_envs(client, deps):
    r = call(client, "POST", "/apps/shop/routes", dev("app.admin.routes"))
    assert r.get_json() == {"tsubame": {"PrefixResults": [{"Prefix": "", "Added": None,
                                                           "Removed": None}],
                                        "Added": None, "Removed": None}}  # fmt: skip
    assert deps.recorder.records[-1].kind.name == "app.admin.routes"
    r = call(client, "GET", "/apps/shop/metric/envs", dev("app.read.metric"))
    assert (r.status_code, r.get_json()) == (200, {})


def test_cnames_that_are_ip_addresses_or_the_apis_host_are_refused():
    d = fake_deps(Config(api_host="tsuru.example.com"))
    d.stores.apps.add(App("shop", pool="default", team_owner="blue", teams=["blue"],
                          routers=[AppRouter("tsubame", {}, "gateway")]))  # fmt: skip
    client = build(d)
    for bad in ("10.1.2.3", "127.0.0.1", "tsuru.example.com", "TSURU.example.com."):
        r = call(client, "POST", "/apps/shop/cname", admin(), data={"cname": bad})
        assert (r.status_code, r.text) == (400, "Invalid cname\n"), bad
    assert d.stores.apps.get("shop").cnames == []
    assert d.stores.cnames.owner("10.1.2.3") is None
    r = call(client, "POST", "/apps/shop/cname", admin(), data={"cname": "www.example.com"})
    assert r.status_code == 200, r.text
    r = call(client, "DELETE", "/apps/shop/cname?cname=www.example.com", admin())
    assert r.status_code == 200, r.text
    sent = [b for k, b in d.publisher if k == keys.CERTIFICATES_CHANGED]
    assert sent == [{"app": "shop", "cname": "www.example.com"}]
