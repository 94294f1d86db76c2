"""App update and removal (apps.md §9.1) on fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.apps.domain.models import App, AppRouter, EnvVar, LogLine, Plan
from services.apps.domain.versions import AppVersion
from services.apps.tests.fakes import fake_deps
from services.apps.tests.unit.conftest import admin, build, call, user
from shared.bus import keys
from shared.events import Allowed, EventSpec, Owner, Target


@pytest.fixture
def deps():  # type: ignore[no-untyped-def]
    d = fake_deps()
    d.auth.teams = ["blue", "red"]
    d.provisioner.pools = ["default", "other"]
    d.provisioner.plans["big"] = {"name": "big", "memory": 2048, "swap": 0, "cpumilli": 1000,
                                  "cpushare": 100}  # fmt: skip
    d.stores.apps.add(App("shop", pool="default", team_owner="blue", teams=["blue"],
                          owner="alice@example.com", platform="python",
                          plan=Plan("small", 1024, default=True),
                          routers=[AppRouter("tsubame")], cnames=["www.shop.com"],
                          env={"A": EnvVar("A", "1")}))  # fmt: skip
    d.stores.cnames.claim("www.shop.com", "shop")
    d.auth.inuse["alice@example.com"] = 1
    return d


@pytest.fixture
def client(deps):  # type: ignore[no-untyped-def]
    return build(deps)


def dev(*perms: str) -> Any:
    return user("dev@example.com", *[(p, "team", "blue") for p in perms])


def messages(r: Any) -> list[str]:
    return [json.loads(x).get("Message", "") for x in r.text.splitlines() if x.strip()]


def test_update_description_and_tags_needs_each_permission(client, deps):
    form = {"description": "new", "tag": ["a", "a", " b "]}
    assert (
        call(client, "PUT", "/apps/shop", dev("app.update.description"), data=form).status_code
        == 403
    )
    r = call(
        client, "PUT", "/apps/shop", dev("app.update.description", "app.update.tags"), data=form
    )
    assert r.status_code == 200, r.text
    app = deps.stores.apps.get("shop")
    assert (app.description, app.tags) == ("new", ["a", "b"])
    assert deps.provisioner.sent == []  # nothing the provisioner needs
    evt = deps.recorder.records[-1]
    assert (evt.kind.name, evt.cancelable, evt.error) == ("app.update", True, "")


@pytest.mark.parametrize(
    ("form", "text"),
    [
        (
            {},
            "Neither the description, tags, plan, pool, team owner or platform were set. "
            "You must define at least one.",
        ),  # fmt: skip
        (
            {"router": "x"},
            "updating router was deprecated, please add the wanted router and remove the old one",
        ),  # fmt: skip
        (
            {"pool": "other", "noRestart": "true"},
            "You must restart the app when changing the pool.",
        ),
        ({"plan": "huge"}, "plan not found"),
        ({"metadata.labels.0.name": "tsuru.io/x"}, "prefix tsuru.io/ is private"),
    ],
)
def test_update_refusals(client, deps, form, text):
    r = call(client, "PUT", "/apps/shop", admin(), data=form)
    assert (r.status_code, r.text) == (400, text + "\n")
    assert deps.stores.apps.get("shop").plan.name == "small"


def test_plan_change_restarts_unless_told_not_to(client, deps):
    r = call(client, "PUT", "/apps/shop", dev("app.update.plan"), data={"plan": "big"})
    assert messages(r) == ["update shop\n"]
    sent = deps.provisioner.sent[-1]
    assert (sent.command, sent.args, sent.app["plan"]["name"]) == (
        "update",
        {"restart": True},
        "big",
    )
    assert deps.stores.apps.get("shop").plan.name == "big"
    r = call(
        client,
        "PUT",
        "/apps/shop",
        admin(),
        json={"planoverride": {"memory": 4096}, "noRestart": True},
    )
    assert r.status_code == 200
    assert deps.provisioner.sent[-1].args == {"restart": False}
    assert deps.provisioner.sent[-1].app["plan"]["memory"] == 4096
    call(client, "PUT", "/apps/shop", admin(), json={"planoverride": {"memory": 0}})
    assert deps.stores.apps.get("shop").plan.override_memory is None


def test_pool_move_and_team_owner(client, deps):
    r = call(client, "PUT", "/apps/shop", admin(), data={"pool": "other", "teamOwner": "red"})
    assert r.status_code == 200
    app = deps.stores.apps.get("shop")
    assert (app.pool, app.team_owner, app.teams) == ("other", "red", ["blue", "red"])
    assert deps.provisioner.sent[-1].args == {"restart": True}


def test_a_pool_move_the_provisioner_refuses_leaves_the_app_where_it_was(client, deps):
    deps.provisioner.command_error = "No nodes found with one of the following metadata: pool=other"
    r = call(client, "PUT", "/apps/shop", admin(), data={"pool": "other", "plan": "big"})
    lines = [json.loads(x) for x in r.text.splitlines() if x.strip()]
    assert "No nodes found" in lines[-1]["Error"], r.text
    app = deps.stores.apps.get("shop")
    assert (app.pool, app.plan.name) == ("default", "small")
    assert deps.recorder.records[-1].error


def test_metadata_items_by_name(client, deps):
    body = {"metadata": {"labels": [{"name": "tier", "value": "web"}],
                         "annotations": [{"name": "note", "value": "x"}]}}  # fmt: skip
    assert call(client, "PUT", "/apps/shop", admin(), json=body).status_code == 200
    body = {"metadata": {"labels": [{"name": "tier", "delete": True}]}}
    call(client, "PUT", "/apps/shop", admin(), json=body)
    meta = deps.stores.apps.get("shop").metadata
    assert meta.labels == [] and [a.name for a in meta.annotations] == ["note"]


def test_remove_everything_and_announce(client, deps):
    deps.stores.logs.append("shop", [LogLine("2026-01-01T00:00:00Z", "x")])
    when = deps.clock()
    deps.stores.versions.allocate("shop")
    deps.stores.versions.add(AppVersion("shop", 1, when, when, kind="upload"))
    assert len(deps.stores.versions.of_app("shop")) == 1
    r = call(client, "DELETE", "/apps/shop", dev("app.delete"))
    assert r.status_code == 200
    msgs = messages(r)
    assert msgs[0] == '---- Removing application "shop"...\n'
    assert msgs[-1] == "---- Done removing application.\n"
    assert not deps.stores.apps.exists("shop")
    assert deps.stores.cnames.owner("www.shop.com") is None
    assert deps.stores.logs.tail("shop", 0) == []
    assert deps.auth.revoked == ["shop"] and deps.auth.inuse["alice@example.com"] == 0
    assert deps.stores.versions.of_app("shop") == []
    assert deps.provisioner.sent[-1].command == "remove"
    assert (keys.APP_REMOVED, {"app": "shop"}) in deps.publisher
    assert deps.recorder.records[-1].kind.name == "app.delete"
    assert call(client, "DELETE", "/apps/shop", admin()).status_code == 404


def test_remove_goes_on_past_a_failing_step(client, deps):
    deps.provisioner.command_error = "provisioner sad"
    r = call(client, "DELETE", "/apps/shop", admin())
    msgs = messages(r)
    assert "Unable to remove app from the provisioner: provisioner sad\n" in msgs
    assert msgs[-1] == "---- Done removing application. Some errors occurred during removal.\n"
    assert not deps.stores.apps.exists("shop")


def test_swapped_app_cannot_be_removed(client, deps):
    deps.stores.apps.update("shop", {"swapped_with": "blog"})
    r = call(client, "DELETE", "/apps/shop", admin())
    assert (r.status_code, r.text) == (
        409,
        'application is swapped with "blog", cannot remove it\n',
    )
    assert deps.stores.apps.exists("shop")


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("PUT", "/apps/shop", {"description": "x"}),
        ("POST", "/apps/shop/env", {"Envs.0.Name": "B", "Envs.0.Value": "1"}),
        ("PUT", "/apps/shop/quota", {"limit": "2"}),
        ("POST", "/apps/shop/cname", {"cname": "new.shop.com"}),
        ("DELETE", "/apps/shop", None),
        ("POST", "/swap", {"app1": "blog", "app2": "shop", "force": "true"}),
    ],
)
def test_a_running_operation_on_the_app_makes_others_409(client, deps, method, path, form):
    deps.stores.apps.add(App("blog", pool="default", team_owner="blue", teams=["blue"],
                             platform="python", routers=[AppRouter("tsubame")]))  # fmt: skip
    running = deps.recorder.start(EventSpec(
        target=Target("app", "shop"), kind="app.deploy", owner=Owner("user", "bob@example.com"),
        allowed=Allowed("app.read.events"),
    ))  # fmt: skip
    r = call(client, method, path, admin(), data=form)
    assert r.status_code == 409
    assert r.text.startswith('event locked: app(shop) running "app.deploy" start by user bob@')
    running.done()
    assert call(client, method, path, admin(), data=form).status_code == 200
