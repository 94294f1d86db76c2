"""Env vars (apps.md §3) and the app log (apps.md §7) on fakes."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from services.apps.domain.models import App, EnvVar, LogLine, ServiceEnv
from services.apps.messaging.consumers import consumers
from services.apps.tests.fakes import fake_deps
from services.apps.tests.unit.conftest import app_token, build, call, user


@pytest.fixture
def deps():  # type: ignore[no-untyped-def]
    d = fake_deps()
    d.stores.apps.add(
        App(
            "shop",
            pool="default",
            team_owner="blue",
            teams=["blue"],
            env={
                "TSURU_APPNAME": EnvVar("TSURU_APPNAME", "shop", public=False),
                "TSURU_APP_TOKEN": EnvVar("TSURU_APP_TOKEN", "", public=False),
                "A": EnvVar("A", "1"),
            },
            service_envs=[ServiceEnv("A", "svc", "mysql", "db1")],
        )  # fmt: skip
    )
    return d


@pytest.fixture
def client(deps):  # type: ignore[no-untyped-def]
    return build(deps)


def dev(*perms: str) -> Any:
    return user("dev@example.com", *[(p, "team", "blue") for p in perms])


def stream_lines(r: Any) -> list[dict[str, Any]]:
    return [json.loads(x) for x in r.text.splitlines() if x.strip()]


def test_get_env_merged_with_service_vars_and_token(client, deps):
    r = call(client, "GET", "/apps/shop/env", dev("app.read.env"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    got = {e["name"]: e for e in r.get_json()}
    assert got["A"] == {"name": "A", "value": "svc", "alias": "", "public": False}
    assert got["TSURU_APP_TOKEN"]["value"] == deps.auth.app_token("shop")
    assert json.loads(got["TSURU_SERVICES"]["value"]) == {
        "mysql": [{"instance_name": "db1", "envs": {"A": "svc"}}]
    }
    r = call(client, "GET", "/apps/shop/env?env=A&env=NOPE", dev("app.read.env"))
    assert r.get_json() == [{"name": "A", "value": "1", "alias": "", "public": True}]
    assert call(client, "GET", "/apps/shop/env?env=NOPE", dev("app.read.env")).text == "null\n"
    assert call(client, "GET", "/apps/shop/env", dev()).status_code == 403
    # Any token of the app itself reads it (tsuru skips the check for app tokens).
    assert call(client, "GET", "/apps/shop/env", app_token("shop")).status_code == 200
    assert call(client, "GET", "/apps/other/env", app_token("shop")).status_code == 403


def test_set_env_streams_stores_logs_public_values_and_restarts(client, deps):
    body = {"envs": [{"name": "B", "value": "2"}, {"name": "S", "value": "x", "private": True}],
            "managedBy": "tf"}  # fmt: skip
    r = call(client, "POST", "/apps/shop/env", dev("app.update.env.set"), json=body)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-json-stream"
    msgs = [x["Message"] for x in stream_lines(r)]
    assert msgs[0] == "---- Setting 2 new environment variables ----\n"
    assert msgs[1] == "env shop\n"  # what the provisioner replied
    env = deps.stores.apps.get("shop").env
    assert (env["B"].public, env["S"].public, env["S"].managed_by) == (True, False, "tf")
    (sent,) = deps.provisioner.sent
    assert (sent.command, sent.args) == ("env", {"restart": True})
    assert sent.app["env"]["B"] == "2" and sent.app["env"]["S"] == "x"
    logged = [x.message for x in deps.stores.logs.tail("shop", 0)]
    assert logged == ["setting env B with value 2"]
    evt = deps.recorder.records[-1]
    assert evt.kind.name == "app.update.env.set"
    values = {f["name"]: f["value"] for f in evt.start_custom_data}
    assert values["envs.1.value"] == "*****" and values["envs.0.value"] == "2"


def test_set_env_form_prune_and_norestart(client, deps):
    deps.stores.apps.set_envs("shop", [EnvVar("OLD", "o", managed_by="tf")])
    form = {"Envs.0.Name": "N", "Envs.0.Value": "v", "managedBy": "tf", "pruneUnused": "true",
            "NoRestart": "true"}  # fmt: skip
    r = call(client, "POST", "/apps/shop/env", dev("app.update.env.set"), data=form)
    msgs = [x["Message"] for x in stream_lines(r)]
    assert "---- Pruning OLD from environment variables ----\n" in msgs
    assert "OLD" not in deps.stores.apps.get("shop").env
    assert deps.provisioner.sent[-1].args == {"restart": False}


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, "You must provide the list of environment variables"),
        (
            {"envs": [{"name": "A"}], "pruneUnused": True},
            "Prune unused requires a managed-by value",
        ),
        (
            {"envs": [{"name": "TSURU_APPNAME", "value": "x"}]},
            "Can't change the following environment variables (write protected): "
            "[TSURU_APPNAME TSURU_APP_TOKEN TSURU_SERVICE TSURU_APPDIR]",
        ),  # fmt: skip
        ({"envs": [{"name": "1BAD", "value": "x"}]}, "Invalid environment variable name: '1BAD'"),
    ],
)
def test_set_env_refusals(client, deps, body, text):
    r = call(client, "POST", "/apps/shop/env", dev("app.update.env.set"), json=body)
    assert (r.status_code, r.text) == (400, text + "\n")
    assert sorted(deps.stores.apps.get("shop").env) == ["A", "TSURU_APPNAME", "TSURU_APP_TOKEN"]
    assert deps.provisioner.sent == []


def test_set_env_needs_permission_before_anything(client, deps):
    r = call(client, "POST", "/apps/shop/env", dev(), json={"envs": [{"name": "A"}]})
    assert r.status_code == 403 and deps.recorder.records == []


def test_unset_env(client, deps):
    r = call(client, "DELETE", "/apps/shop/env?env=A&env=GHOST&noRestart=true",
             dev("app.update.env.unset"))  # fmt: skip
    assert [x["Message"] for x in stream_lines(r)][0] == (
        "---- Unsetting 2 environment variables ----\n"
    )
    assert "A" not in deps.stores.apps.get("shop").env
    assert deps.provisioner.sent[-1].args == {"restart": False}
    r = call(client, "DELETE", "/apps/shop/env", dev("app.update.env.unset"))
    assert (r.status_code, r.text) == (400, "You must provide the list of environment variables.\n")


def test_a_failing_restart_is_an_error_line(client, deps):
    deps.provisioner.command_error = "restart failed"
    r = call(client, "POST", "/apps/shop/env", dev("app.update.env.set"),
             json={"envs": [{"name": "B", "value": "2"}]})  # fmt: skip
    assert r.status_code == 200
    assert stream_lines(r)[-1]["Error"] == "restart failed"


def test_post_and_read_log(client, deps):
    r = call(client, "POST", "/apps/shop/log", app_token("shop"),
             data={"message": ["one\ntwo\n", "three"], "source": "web", "unit": "u1"})  # fmt: skip
    assert r.status_code == 200 and r.text == ""
    call(client, "POST", "/apps/shop/log", app_token("shop"), json={"message": "four"})
    r = call(client, "GET", "/apps/shop/log?lines=10", app_token("shop"))
    assert r.headers["Content-Type"] == "application/x-json-stream"
    (page,) = stream_lines(r)
    assert [(e["Message"], e["Source"], e["Unit"], e["AppName"]) for e in page] == [
        ("one", "web", "u1", "shop"), ("two", "web", "u1", "shop"),
        ("three", "web", "u1", "shop"), ("four", "app", "", "shop"),
    ]  # fmt: skip
    assert page[0]["Date"].endswith("Z")

    def msgs(q: str) -> list[str]:
        r = call(client, "GET", "/apps/shop/log?" + q, app_token("shop"))
        return [e["Message"] for e in stream_lines(r)[0]]

    assert msgs("lines=2") == ["three", "four"]
    assert msgs("lines=0&source=web&invert-source=true") == ["four"]
    assert msgs("lines=0&unit=u1&source=web") == ["one", "two", "three"]
    assert msgs("lines=-1") == []


@pytest.mark.parametrize(
    ("q", "text"),
    [("", 'Parameter "lines" is mandatory.'), ("lines=x", 'Parameter "lines" must be an integer.')],
)
def test_read_log_refusals(client, q, text):
    r = call(client, "GET", "/apps/shop/log?" + q, user("nobody@e.com"))
    assert (r.status_code, r.text) == (400, text + "\n")  # before the permission check
    assert call(client, "GET", "/apps/shop/log?lines=1", user("nobody@e.com")).status_code == 403


def test_follow_streams_new_lines_without_duplicates(client, deps):
    deps.stores.logs.append("shop", [LogLine("2026-01-01T00:00:00Z", "old")])
    resp = call(client, "GET", "/apps/shop/log?lines=5&follow=1", app_token("shop"),
                buffered=False)  # fmt: skip
    chunks = iter(resp.response)
    assert json.loads(next(chunks))[0]["Message"] == "old"
    done = threading.Event()

    def writer() -> None:
        call(client, "POST", "/apps/shop/log", app_token("shop"), data={"message": "new"})
        done.set()

    threading.Thread(target=writer).start()
    got = json.loads(next(chunks))
    assert [e["Message"] for e in got] == ["new"]
    done.wait(5)
    resp.close()


def test_worker_stores_provisioner_lines(deps):
    (consumer,) = [c for c in consumers(deps) if c.queue == "apps.unit-logs"]
    consumer.handler("provisioner.unit.logs", {"app": "shop", "lines": [
        {"Date": "2026-01-01T00:00:00Z", "Message": "hi", "Source": "web", "Unit": "u"},
        {"Message": ""}, "junk"]})  # fmt: skip
    assert [(x.message, x.source) for x in deps.stores.logs.tail("shop", 0)] == [("hi", "web")]
