"""Bind and unbind through the gateway, against a real service API and an OSB broker on
127.0.0.1 and a really deployed sample app (catalog.md c.3-c.5, §3): the bound instance's env vars
reach the app's unit after the restart the bind asks for, each unit is bound, and a
failure of the service API at any step of bind, unbind or removal leaves nothing
half-done on either side. (The unit is read at its own address: app traffic through
the gateway is the gateway's part.)"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from scripts.stack import Stack
from services.catalog.tests.peers.broker import FakeBroker
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.apps import sample_archive
from tests.e2e.catalog_helpers import instance, lines, service, team
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def world(
    stack: Stack, admin_token: str, api: FakeServiceApi, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """A team, a service on the fake API, and a deployed sample app of the team."""
    owner = team(stack, admin_token)
    svc = service(stack, admin_token, owner, api.url)
    app = f"bound-{secrets.token_hex(4)}"
    r = requests.post(f"{stack.url}/apps", headers=bearer(admin_token),
                      data={"name": app, "platform": "python", "teamOwner": owner})  # fmt: skip
    assert r.status_code == 201, r.text
    archive = sample_archive(tmp_path_factory.mktemp("bind-archive"))
    r = requests.post(f"{stack.url}/apps/{app}/deploy", headers=bearer(admin_token), timeout=300,
                      files={"file": (archive.name, archive.read_bytes(), "application/gzip")})  # fmt: skip
    assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-2000:]
    return {"team": owner, "service": svc, "app": app}


def _units(stack: Stack, token: str, app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=bearer(token), timeout=30)
    assert r.status_code == 200, r.text
    return list(r.json()["units"])


def _unit_env(stack: Stack, token: str, app: str, name: str) -> str | None:
    """The variable as the app's started unit sees it (the sample app's /env)."""
    for unit in _units(stack, token, app):
        if unit.get("Status") == "started" and unit.get("Address"):
            r = requests.get(f"http://{unit['Address']['Host']}/env?name={name}", timeout=10)
            return r.text if r.status_code == 200 else None
    raise AssertionError(f"{app} has no started unit")


def _eventually_env(stack: Stack, token: str, app: str, name: str, want: str | None) -> None:
    deadline = time.monotonic() + 60
    got: str | None = "<never read>"
    while time.monotonic() < deadline:
        try:
            got = _unit_env(stack, token, app, name)
            if got == want:
                return
        except (requests.RequestException, AssertionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{name} in the unit of {app}: {got!r}, wanted {want!r}")


def _stored_envs(stack: Stack, token: str, app: str) -> dict[str, str]:
    r = requests.get(f"{stack.url}/apps/{app}/env", headers=bearer(token), timeout=30)
    assert r.status_code == 200, r.text
    return {e["name"]: e["value"] for e in r.json()}


def _bound_apps(stack: Stack, token: str, svc: str, inst: str) -> list[str]:
    r = requests.get(f"{stack.url}/services/{svc}/instances/{inst}", headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json()["Apps"])


def _app_binds(stack: Stack, token: str, app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=bearer(token), timeout=30)
    return list(r.json()["serviceInstanceBinds"])


def _bind(
    stack: Stack, token: str, svc: str, inst: str, app: str, **form: str
) -> requests.Response:
    return requests.put(f"{stack.url}/services/{svc}/instances/{inst}/{app}", data=form,
                        headers=bearer(token), timeout=300)  # fmt: skip


def _unbind(
    stack: Stack, token: str, svc: str, inst: str, app: str, query: str = ""
) -> requests.Response:
    return requests.delete(f"{stack.url}/services/{svc}/instances/{inst}/{app}{query}",
                           headers=bearer(token), timeout=300)  # fmt: skip


def _failed(resp: requests.Response) -> str:
    """The error of a failed streamed operation: a 500 text before anything was
    streamed, or the stream's Error line."""
    if resp.status_code != 200:
        return resp.text
    found = [x["Error"] for x in lines(resp) if x.get("Error")]
    assert found, resp.text
    return str(found[-1])


def test_a_deployed_app_sees_its_bound_instances_env_vars(
    stack: Stack, admin_token: str, api: FakeServiceApi, world: dict[str, str]
) -> None:
    svc, app = world["service"], world["app"]
    inst = instance(stack, admin_token, svc, world["team"])
    unit = _units(stack, admin_token, app)[0]
    assert _unit_env(stack, admin_token, app, "DB_HOST") is None

    resp = _bind(stack, admin_token, svc, inst, app)
    assert resp.status_code == 200, resp.text
    out = "".join(x.get("Message", "") for x in lines(resp))
    assert not [x for x in lines(resp) if x.get("Error")], resp.text
    assert "---- Setting 3 new environment variables ----\n" in out
    assert f'\nInstance "{inst}" is now bound to the app "{app}".\n' in out
    assert out.endswith(
        "The following environment variables are available for use in your app:\n\n"
        "- DB_HOST\n- DB_USER\n- TSURU_SERVICES\n"
    )
    # The service API heard of the app, then of its unit (by the unit's address).
    (bound,) = api.calls("POST", f"/resources/{inst}/bind-app")
    assert bound.field("app-name") == [app] and bound.field("app-host") == [
        f"{app}.tsubame.localhost:{stack.port}"  # the app's address, as app info's ip
    ]
    assert bound.headers["Authorization"].startswith("Basic ")
    unit_binds = api.calls("POST", f"/resources/{inst}/bind")
    assert unit_binds and all(c.field("app-name") == [app] for c in unit_binds)
    unit = _units(stack, admin_token, app)[0]  # after the restart
    assert unit_binds[-1].field("unit-host") == [unit["IP"]]

    # Inside the unit, after the restart the bind asked for.
    _eventually_env(stack, admin_token, app, "DB_HOST", "10.0.0.1")
    services = json.loads(_unit_env(stack, admin_token, app, "TSURU_SERVICES") or "null")
    assert services == {
        svc: [{"instance_name": inst, "envs": {"DB_HOST": "10.0.0.1", "DB_USER": "u"}}]
    }
    assert _bound_apps(stack, admin_token, svc, inst) == [app]
    assert {"service": svc, "instance": inst} in [
        {"service": b["service"], "instance": b["instance"]}
        for b in _app_binds(stack, admin_token, app)
    ]
    resp = _bind(stack, admin_token, svc, inst, app)
    assert "app is already bound to this service instance" in _failed(resp)

    resp = _unbind(stack, admin_token, svc, inst, app)
    assert resp.status_code == 200, resp.text
    assert not [x for x in lines(resp) if x.get("Error")], resp.text
    out = "".join(x.get("Message", "") for x in lines(resp))
    assert "---- Unsetting 2 environment variables ----\n" in out
    assert out.endswith(f'\nInstance "{inst}" is not bound to the app "{app}" anymore.\n')
    assert api.calls("DELETE", f"/resources/{inst}/bind")  # the unit, then the app
    assert api.calls("DELETE", f"/resources/{inst}/bind-app")
    _eventually_env(stack, admin_token, app, "DB_HOST", None)
    assert json.loads(_unit_env(stack, admin_token, app, "TSURU_SERVICES") or "null") == {}
    assert _bound_apps(stack, admin_token, svc, inst) == []
    assert "DB_HOST" not in _stored_envs(stack, admin_token, app)


def _nothing_bound(stack: Stack, token: str, svc: str, inst: str, app: str) -> None:
    assert _bound_apps(stack, token, svc, inst) == []
    assert inst not in [b["instance"] for b in _app_binds(stack, token, app)]
    envs = _stored_envs(stack, token, app)
    assert "DB_HOST" not in envs and json.loads(envs.get("TSURU_SERVICES", "{}")).get(svc) is None


def _fully_bound(stack: Stack, token: str, svc: str, inst: str, app: str) -> None:
    assert _bound_apps(stack, token, svc, inst) == [app]
    assert _stored_envs(stack, token, app)["DB_HOST"] == "10.0.0.1"


def test_a_service_api_failure_at_each_bind_step_leaves_nothing_half_done(
    stack: Stack, admin_token: str, api: FakeServiceApi, world: dict[str, str]
) -> None:
    svc, app = world["service"], world["app"]
    inst = instance(stack, admin_token, svc, world["team"])
    path = f"/resources/{inst}"

    # 1. bind-app refused: nothing stored, nothing to undo at the API.
    api.script("POST", f"{path}/bind-app", 500, "boom")
    err = _failed(_bind(stack, admin_token, svc, inst, app, noRestart="true"))
    assert err.startswith(
        f'Failed to bind the instance "{svc}/{inst}" to the app "{app}": '
        "invalid response: boom (code: 500)"
    ), err
    assert err.rstrip("\n").endswith(f'("{inst}" is up)')
    _nothing_bound(stack, admin_token, svc, inst, app)
    assert api.calls("DELETE", f"{path}/bind-app") == []

    # 2. bind-unit refused: the app's bind is undone at the API and every env var goes.
    api.script("POST", f"{path}/bind", 500, "unit boom")
    err = _failed(_bind(stack, admin_token, svc, inst, app, noRestart="true"))
    assert "unit boom" in err, err
    _nothing_bound(stack, admin_token, svc, inst, app)
    assert len(api.calls("DELETE", f"{path}/bind-app")) == 1

    # A bind that works, to try the unbind's steps.
    resp = _bind(stack, admin_token, svc, inst, app, noRestart="true")
    assert resp.status_code == 200 and not [x for x in lines(resp) if x.get("Error")], resp.text
    _fully_bound(stack, admin_token, svc, inst, app)
    unit_binds = len(api.calls("POST", f"{path}/bind"))

    # 3. unbind-unit refused: still bound, on both sides.
    api.script("DELETE", f"{path}/bind", 500, "unit unbind boom")
    err = _failed(_unbind(stack, admin_token, svc, inst, app, "?noRestart=true"))
    assert "unit unbind boom" in err, err
    _fully_bound(stack, admin_token, svc, inst, app)

    # 4. unbind-app refused: the units unbound meanwhile are bound again.
    api.script("DELETE", f"{path}/bind-app", 500, "app unbind boom")
    err = _failed(_unbind(stack, admin_token, svc, inst, app, "?noRestart=true"))
    assert "app unbind boom" in err, err
    _fully_bound(stack, admin_token, svc, inst, app)
    assert len(api.calls("POST", f"{path}/bind")) == unit_binds + 1

    # 5. The instance cannot go while bound, nor when its API refuses; then it can.
    resp = requests.delete(
        f"{stack.url}/services/{svc}/instances/{inst}", headers=bearer(admin_token)
    )
    assert resp.status_code != 200 or [x for x in lines(resp) if x.get("Error")], resp.text
    _fully_bound(stack, admin_token, svc, inst, app)
    resp = _unbind(stack, admin_token, svc, inst, app, "?noRestart=true")
    assert resp.status_code == 200 and not [x for x in lines(resp) if x.get("Error")], resp.text
    _nothing_bound(stack, admin_token, svc, inst, app)
    api.script("DELETE", path, 500, "remove boom")
    resp = requests.delete(
        f"{stack.url}/services/{svc}/instances/{inst}", headers=bearer(admin_token)
    )
    assert "remove boom" in _failed(resp)
    assert _bound_apps(stack, admin_token, svc, inst) == []  # still there
    resp = requests.delete(
        f"{stack.url}/services/{svc}/instances/{inst}", headers=bearer(admin_token)
    )
    assert resp.status_code == 200 and not [x for x in lines(resp) if x.get("Error")], resp.text
    r = requests.get(f"{stack.url}/services/{svc}/instances/{inst}", headers=bearer(admin_token))
    assert (r.status_code, r.text) == (404, "service instance not found\n")


def test_a_broker_instance_bound_to_a_deployed_app(
    stack: Stack, admin_token: str, world: dict[str, str]
) -> None:
    broker = FakeBroker()
    try:
        _broker_bind(stack, admin_token, world, broker)
    finally:
        broker.close()


def _broker_bind(stack: Stack, token: str, world: dict[str, str], broker: FakeBroker) -> None:
    app, admin = world["app"], bearer(token)
    name = f"b{secrets.token_hex(3)}"
    auth = {"Username": broker.username, "Password": broker.password}
    body = {"Name": name, "URL": broker.url, "Config": {"AuthConfig": {"BasicAuthConfig": auth}}}
    assert requests.post(f"{stack.url}/brokers", json=body, headers=admin).status_code == 201
    svc = f"{name}::db"
    inst = instance(stack, token, svc, world["team"], plan="small")

    # The broker refuses the binding: nothing is bound on either side.
    broker.fail["bind"] = 500
    err = _failed(_bind(stack, token, svc, inst, app, noRestart="true"))
    assert "bind failed" in err, err
    _nothing_bound(stack, token, svc, inst, app)
    assert broker.bindings == {}
    del broker.fail["bind"]

    resp = _bind(stack, token, svc, inst, app)
    assert resp.status_code == 200 and not [x for x in lines(resp) if x.get("Error")], resp.text
    assert len(broker.bindings) == 1
    # tsuru keeps the string credentials only (DB_PORT and DB_OPTS are not strings).
    _eventually_env(stack, token, app, "DB_URI", "pg://x")
    assert _unit_env(stack, token, app, "DB_PORT") is None
    services = json.loads(_unit_env(stack, token, app, "TSURU_SERVICES") or "null")
    assert services == {svc: [{"instance_name": inst, "envs": {"DB_URI": "pg://x"}}]}

    resp = _unbind(stack, token, svc, inst, app)
    assert resp.status_code == 200 and not [x for x in lines(resp) if x.get("Error")], resp.text
    assert broker.bindings == {}
    _eventually_env(stack, token, app, "DB_URI", None)
    resp = requests.delete(f"{stack.url}/services/{svc}/instances/{inst}", headers=admin)
    assert resp.status_code == 200 and broker.instances == {}
    assert requests.delete(f"{stack.url}/brokers/{name}", headers=admin).status_code == 200
