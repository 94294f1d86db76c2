"""App create, list and info on fakes (apps.md §1, §2)."""

from __future__ import annotations

from typing import Any

import pytest

from services.apps.domain.models import App, AppRouter, Plan
from services.apps.tests.fakes import FakeAuth, FakeCatalog, FakeProvisioner, fake_deps
from services.apps.tests.unit.conftest import admin, build, call, user
from shared.errors import Invalid
from shared.testing.events import FakeRecorder


@pytest.fixture
def deps():  # type: ignore[no-untyped-def]
    return fake_deps()


@pytest.fixture
def client(deps):  # type: ignore[no-untyped-def]
    return build(deps)


def creator(team: str = "blue") -> Any:
    return user("alice@example.com", ("app.create", "team", team), ("app.read", "team", team))


def unit(app: str, uid: str, status: str = "started") -> dict[str, Any]:
    return {"ID": uid, "Name": uid, "AppName": app, "ProcessName": "web", "Status": status}


def test_create_answers_201_with_the_address_and_stores_tsurus_defaults(client, deps):
    r = call(client, "POST", "/apps", creator(), data={"name": "shop", "platform": "python",
             "tag": ["b", " a ", "b", ""], "description": "d"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.get_json() == {"ip": "shop.tsubame.localhost", "status": "success"}
    app = deps.stores.apps.get("shop")
    assert (app.team_owner, app.teams, app.owner, app.pool) == (
        "blue", ["blue"], "alice@example.com", "default",
    )  # fmt: skip
    assert app.tags == ["b", "a"] and app.plan.name == "small"
    assert [r.name for r in app.routers] == ["tsubame"]
    assert {k: (v.value, v.public) for k, v in app.env.items()} == {
        "TSURU_APPNAME": ("shop", False),
        "TSURU_APPDIR": ("/home/application/current", False),
        "TSURU_APP_TOKEN": ("", False),
    }
    evt = deps.recorder.records[-1]
    assert (evt.kind.name, evt.target.type, evt.target.value, evt.error) == (
        "app.create", "app", "shop", "",
    )  # fmt: skip
    assert deps.auth.inuse["alice@example.com"] == 1


def test_create_json_body_router_none_and_routeropts(client, deps):
    body = {"name": "api", "router": "none", "tags": ["x"], "metadata": {
        "labels": [{"name": "l", "value": "v"}]}}  # fmt: skip
    r = call(client, "POST", "/apps", creator(), json=body)
    assert r.status_code == 201 and r.get_json() == {"status": "success"}
    assert deps.stores.apps.get("api").routers == []
    assert deps.stores.apps.get("api").metadata.labels[0].value == "v"
    r = call(client, "POST", "/apps", creator(), data={"name": "web", "routeropts.a": "b"})
    assert deps.stores.apps.get("web").routers == [AppRouter("tsubame", {"a": "b"})]


@pytest.mark.parametrize(
    ("form", "status", "text"),
    [
        (
            {"name": "Bad_Name"},
            400,
            "Invalid app name, your app should have at most 40 "
            "characters, containing only lower case letters, numbers or dashes, starting with "
            "a letter.",
        ),  # fmt: skip
        ({"name": "tsr"}, 400, "Invalid app name"),
        ({"name": "a" * 41}, 400, "Invalid app name"),
        ({"name": "ok", "pool": "nope"}, 400, "Pool does not exist."),
        ({"name": "ok", "plan": "huge"}, 400, "plan not found"),
        ({"name": "Bad", "plan": "huge"}, 400, "plan not found"),  # masks the name, as tsuru
        ({"name": "ok", "teamOwner": "red"}, 403, "You don't have permission"),
    ],
)
def test_create_refusals(client, deps, form, status, text):
    r = call(client, "POST", "/apps", creator(), data=form)
    assert r.status_code == status
    assert r.text.startswith(text)
    assert deps.stores.apps.count() == 0
    assert deps.auth.inuse.get("alice@example.com", 0) == 0


def test_duplicate_is_409_and_changes_nothing(client, deps):
    call(client, "POST", "/apps", creator(), data={"name": "shop"})
    r = call(client, "POST", "/apps", creator(), data={"name": "shop", "description": "x"})
    assert r.status_code == 409
    assert r.text == (
        'tsuru failed to create the app "shop": there is already an app with this name\n'
    )
    assert deps.stores.apps.get("shop").description == ""
    assert deps.auth.inuse["alice@example.com"] == 1


def test_team_owner_chosen_automatically_or_asked_for(deps):
    deps.auth.teams = ["blue", "red"]
    client = build(deps)
    two = user("a@e.com", ("app.create", "team", "blue"), ("app.create", "team", "red"))
    r = call(client, "POST", "/apps", two, data={"name": "x"})
    assert (r.status_code, r.text) == (400, "You must provide a team to execute this action.\n")
    r = call(client, "POST", "/apps", user("b@e.com"), data={"name": "x"})
    assert r.status_code == 403
    deps.auth.teams = ["blue"]
    assert call(client, "POST", "/apps", admin(), data={"name": "x"}).status_code == 201
    assert deps.stores.apps.get("x").team_owner == "blue"


def test_unknown_team_owner_is_400(client, deps):
    r = call(client, "POST", "/apps", admin(), data={"name": "x", "teamOwner": "ghost"})
    assert (r.status_code, r.text) == (400, "team not found\n")


def test_quota_exceeded_is_403_and_rolls_back(client, deps):
    deps.auth.user_limits["alice@example.com"] = 1
    assert call(client, "POST", "/apps", creator(), data={"name": "one"}).status_code == 201
    r = call(client, "POST", "/apps", creator(), data={"name": "two"})
    assert (r.status_code, r.text) == (403, "Quota exceeded\n")
    assert not deps.stores.apps.exists("two")


def test_failure_after_insert_rolls_back_quota_and_record(deps):
    class BrokenAuth(FakeAuth):
        def app_token(self, app: str) -> str:
            raise Invalid("token service broken")

    deps.auth = BrokenAuth()
    r = call(build(deps), "POST", "/apps", creator(), data={"name": "shop"})
    assert r.status_code == 500
    assert r.text == 'tsuru failed to create the app "shop": token service broken\n'
    assert not deps.stores.apps.exists("shop")
    assert deps.auth.inuse["alice@example.com"] == 0


def seed(deps, name: str, team: str = "blue", **kw: Any) -> App:  # type: ignore[no-untyped-def]
    app = App(name, pool=kw.pop("pool", "default"), team_owner=team, teams=[team],
              owner="o@e.com", platform="python", plan=Plan("small", 1, default=True),
              routers=[AppRouter("tsubame", {}, "gateway")], **kw)  # fmt: skip
    deps.stores.apps.add(app)
    return app


def test_list_only_what_the_caller_may_read_with_units_batched(client, deps):
    for i in range(3):
        seed(deps, f"blue{i}")
    seed(deps, "red0", "red", tags=["t"])
    deps.provisioner.units_by_app["blue1"] = [unit("blue1", "u1")]
    r = call(client, "GET", "/apps", creator())
    assert r.status_code == 200
    apps = r.get_json()
    assert [a["name"] for a in apps] == ["blue0", "blue1", "blue2"]
    assert deps.provisioner.units_calls == [["blue0", "blue1", "blue2"]]
    one = apps[1]
    assert list(one) == ["name", "pool", "teamowner", "plan", "units", "cname", "ip", "routers",
                         "lock", "tags", "metadata"]  # fmt: skip
    assert one["units"][0]["ID"] == "u1" and one["ip"] == "blue1.tsubame.localhost"
    assert one["plan"] == {"name": "small", "memory": 1, "swap": 0, "cpushare": 0,
                           "cpumilli": 0, "default": True,
                           "override": {"memory": None, "cpumilli": None}}  # fmt: skip
    assert one["routers"] == [{"name": "tsubame", "opts": {}, "address": "blue1.tsubame.localhost",
                               "addresses": None, "type": ""}]  # fmt: skip
    assert one["metadata"] == {"labels": None, "annotations": None}
    assert call(client, "GET", "/apps", user("nobody@e.com")).status_code == 204


def test_list_filters(client, deps):
    seed(deps, "web1", tags=["a", "b"])
    seed(deps, "web2", tags=["a"], pool="other")
    seed(deps, "api1", description="d")
    deps.provisioner.units_by_app["api1"] = [unit("api1", "u", "stopped")]

    def names(q: str) -> list[str]:
        return [a["name"] for a in call(client, "GET", "/apps?" + q, admin()).get_json() or []]

    assert names("name=web") == ["web1", "web2"]
    assert names("name=^a") == ["api1"]
    assert names("tag=a&tag=b") == ["web1"]
    assert names("pool=other") == ["web2"]
    assert names("status=stopped") == ["api1"]
    assert names("status=bogus") == []
    assert names("platform=python:latest") == ["web1", "web2", "api1"]
    assert call(client, "GET", "/apps?locked=true", admin()).status_code == 204
    r = call(client, "GET", "/apps?simplified=true&extended=1&name=api", admin())
    (only,) = r.get_json()
    assert only["units"] == [] and only["platform"] == "python" and only["description"] == "d"
    r = call(client, "GET", "/apps?name=(", admin())
    assert r.status_code == 400 and r.text.startswith("error parsing regexp: ")


def test_list_reports_a_units_failure_per_app(deps):
    class Down(FakeProvisioner):
        def units(self, apps):  # type: ignore[no-untyped-def]
            raise Invalid("provisioner down")

    deps.provisioner = Down()
    seed(deps, "shop")
    (only,) = call(build(deps), "GET", "/apps", admin()).get_json()
    assert only["units"] == [] and only["error"] == "unable to list app units: provisioner down"


def test_info_every_field(client, deps):
    seed(deps, "shop", cnames=["www.shop.com"], description="d", tags=["t"], quota_limit=4)
    deps.provisioner.units_by_app["shop"] = [unit("shop", "u1"), unit("shop", "u2", "error")]
    deps.catalog = FakeCatalog({"shop": [{"service": "mysql", "instance": "db", "plan": "s"}]})
    r = call(build(deps), "GET", "/apps/shop", creator())
    assert r.status_code == 200
    body = r.get_json()
    assert list(body) == sorted(body)
    assert body["ip"] == "shop.tsubame.localhost" and body["router"] == "tsubame"
    assert body["routeropts"] == {} and body["teamowner"] == "blue" and body["teams"] == ["blue"]
    assert body["quota"] == {"limit": 4, "inuse": 1}
    assert body["plan"]["router"] == "tsubame" and body["plan"]["override"] == {
        "memory": None, "cpumilli": None}  # fmt: skip
    assert body["serviceInstanceBinds"] == [{"service": "mysql", "instance": "db", "plan": "s"}]
    assert body["routers"][0]["type"] == "gateway"
    assert body["lock"] == {"Locked": False, "Reason": "", "Owner": "",
                            "AcquireDate": "0001-01-01T00:00:00Z"}  # fmt: skip
    assert [u["ID"] for u in body["units"]] == ["u1", "u2"]
    assert "error" not in body
    assert call(client, "GET", "/apps/shop", user("x@e.com")).status_code == 403
    r = call(client, "GET", "/apps/nope", user("x@e.com"))
    assert (r.status_code, r.text) == (404, "App nope not found.\n")


def test_info_reports_both_lookups_failing_in_order_and_a_crash_as_500(deps):
    class Down(FakeProvisioner):
        def units(self, apps):  # type: ignore[no-untyped-def]
            raise Invalid("provisioner down")

    class CatalogDown(FakeCatalog):
        def binds(self, app):  # type: ignore[no-untyped-def]
            raise Invalid("catalog down")

    seed(deps, "shop")
    deps.provisioner, deps.catalog = Down(), CatalogDown()
    body = call(build(deps), "GET", "/apps/shop", creator()).get_json()
    assert body["units"] == [] and body["serviceInstanceBinds"] == []
    assert body["error"] == (
        "unable to list app units: provisioner down\n"
        "unable to get service instance bound to app: catalog down"
    )

    class Broken(FakeCatalog):
        def binds(self, app):  # type: ignore[no-untyped-def]
            raise RuntimeError("bug")

    deps.catalog = Broken()
    assert call(build(deps), "GET", "/apps/shop", creator()).status_code == 500


def test_unlock_is_gone(client, deps):
    seed(deps, "shop")
    r = call(client, "DELETE", "/apps/shop/lock", creator())
    assert (r.status_code, r.text) == (410, "app unlock is deprecated, this call does nothing\n")
    assert call(client, "DELETE", "/apps/nope/lock", creator()).status_code == 404


def test_events_are_visible_by_app_and_team(client, deps):
    call(client, "POST", "/apps", creator(), data={"name": "shop"})
    rec: FakeRecorder = deps.recorder
    allowed = rec.records[-1].allowed
    assert ("app", "shop") in allowed.contexts and ("team", "blue") in allowed.contexts
