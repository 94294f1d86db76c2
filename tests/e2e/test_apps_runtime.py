"""The apps core against the real provisioner runtime, through the gateway: a deployed
sample app gets a new env var after the restart the env change asks for, its own log
lines are readable and followable, its unit agent registers and reports with the app
token, a second operation on the busy app answers 409, cnames rebuild routes, and the
removal takes everything away. (The app is reached at its unit's address: app traffic
through the gateway is the gateway's part.)"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.stack import Stack
from tests.apps import sample_archive
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def _deploy(stack: Stack, admin: dict[str, str], app: str, archive: Path) -> str:
    r = requests.post(f"{stack.url}/apps/{app}/deploy", headers=admin,
                      files={"file": (archive.name, archive.read_bytes(), "application/gzip")},
                      timeout=300)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.text.rstrip().endswith("OK"), r.text[-2000:]
    return r.text


def _units(stack: Stack, admin: dict[str, str], app: str) -> list[dict[str, Any]]:
    return list(requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30).json()["units"])


def _started(stack: Stack, admin: dict[str, str], app: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for unit in _units(stack, admin, app):
            if unit.get("Status") == "started" and unit.get("Address"):
                return unit
        time.sleep(0.3)
    raise AssertionError(f"{app} has no started unit: {_units(stack, admin, app)}")


def _get_at(unit: dict[str, Any], path: str) -> requests.Response:
    return requests.get(f"http://{unit['Address']['Host']}{path}", timeout=10)


def _stream(r: requests.Response) -> list[dict[str, Any]]:
    return [json.loads(x) for x in r.text.splitlines() if x.strip()]


@pytest.fixture(scope="module")
def deployed(stack: Stack, admin_token: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    admin = bearer(admin_token)
    team = f"rt-{secrets.token_hex(3)}"
    assert (
        requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin).status_code == 201
    )
    app = f"rt-{secrets.token_hex(4)}"
    r = requests.post(f"{stack.url}/apps", data={"name": app, "platform": "python",
                      "teamOwner": team}, headers=admin)  # fmt: skip
    assert r.status_code == 201, r.text
    _deploy(stack, admin, app, sample_archive(tmp_path_factory.mktemp("archive")))
    return app, admin


def test_env_change_reaches_the_units_after_the_restart(stack: Stack, deployed) -> None:  # type: ignore[no-untyped-def]
    app, admin = deployed
    unit = _started(stack, admin, app)
    assert _get_at(unit, "/env?name=GREETING").status_code == 404
    r = requests.post(f"{stack.url}/apps/{app}/env", headers=admin, timeout=300,
                      json={"envs": [{"name": "GREETING", "value": "konnichiwa"}]})  # fmt: skip
    lines = _stream(r)
    assert r.status_code == 200 and not [x for x in lines if x.get("Error")], lines
    assert lines[0]["Message"] == "---- Setting 1 new environment variables ----\n"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            got = _get_at(_started(stack, admin, app), "/env?name=GREETING")
            if got.status_code == 200 and got.text == "konnichiwa":
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        raise AssertionError("the restarted unit never saw GREETING")
    assert any("setting env GREETING with value konnichiwa" in e["Message"]
               for e in json.loads(requests.get(f"{stack.url}/apps/{app}/log?lines=0",
                                                headers=admin).text.splitlines()[0]))  # fmt: skip


def test_the_apps_own_log_lines_are_readable_and_followable(stack: Stack, deployed) -> None:  # type: ignore[no-untyped-def]
    app, admin = deployed
    unit = _started(stack, admin, app)
    with requests.get(f"{stack.url}/apps/{app}/log?lines=1&follow=1&source=web", headers=admin,
                      stream=True, timeout=60) as follow:  # fmt: skip
        lines = follow.iter_lines()
        next(lines)  # the first page
        marker = f"/followed-{secrets.token_hex(3)}"
        _get_at(unit, marker)  # the sample app logs one line per request on stdout
        deadline = time.monotonic() + 30
        seen: list[str] = []
        while time.monotonic() < deadline:
            raw = next(lines)
            if not raw.strip():
                continue
            seen += [e["Message"] for e in json.loads(raw)]
            if any(marker in m for m in seen):
                break
        assert any(marker in m for m in seen), seen
    page = requests.get(f"{stack.url}/apps/{app}/log?lines=100&source=web", headers=admin)
    assert any(marker in e["Message"] for e in json.loads(page.text.splitlines()[0]))


def test_unit_agent_registers_and_reports_with_the_app_token(stack: Stack, deployed) -> None:  # type: ignore[no-untyped-def]
    app, admin = deployed
    unit = _started(stack, admin, app)
    token = requests.get(f"{stack.url}/apps/{app}/env?env=TSURU_APP_TOKEN",
                         headers=admin).json()[0]["value"]  # fmt: skip
    r = requests.post(f"{stack.url}/apps/{app}/units/register", headers=bearer(token),
                      data={"hostname": unit["ID"], "customdata": json.dumps({"k": "v"})})  # fmt: skip
    assert r.status_code == 200, r.text
    assert "TSURU_APPNAME" in {e["name"] for e in r.json()}
    r = requests.post(f"{stack.url}/apps/{app}/units/register", headers=bearer(token),
                      data={"hostname": "nope"})  # fmt: skip
    assert (r.status_code, r.text) == (404, 'unit "nope" not found\n')
    r = requests.post(f"{stack.url}/apps/{app}/units/{unit['ID']}", headers=bearer(token),
                      data={"status": "started"})  # fmt: skip
    assert r.status_code == 200, r.text


def test_a_second_operation_on_a_busy_app_answers_409(stack: Stack, deployed) -> None:  # type: ignore[no-untyped-def]
    app, admin = deployed
    busy: list[requests.Response] = []
    # The run holds the app's lock for 20 s, well past the 10 s the quota change waits.
    runner = threading.Thread(target=lambda: busy.append(requests.post(
        f"{stack.url}/apps/{app}/run", data={"command": "sleep 20", "once": "true"},
        headers=admin, timeout=120)))  # fmt: skip
    runner.start()

    def run_holds_the_lock() -> bool:
        r = requests.get(f"{stack.url}/events", headers=admin, timeout=30, params={
            "target.type": "app", "target.value": app, "kindname": "app.run", "running": "true"})  # fmt: skip
        return r.status_code == 200 and bool(r.json())

    # Not a fixed 2 s: on a loaded machine the run's event may open later than that.
    deadline = time.monotonic() + 60
    while not run_holds_the_lock():
        assert runner.is_alive() and time.monotonic() < deadline, busy
        time.sleep(0.2)
    r = requests.put(f"{stack.url}/apps/{app}/quota", data={"limit": "9"}, headers=admin,
                     timeout=60)  # waits tsuru's 10 s for the lock first  # fmt: skip
    assert r.status_code == 409, r.text
    assert r.text.startswith(f'event locked: app({app}) running "app.run"')
    runner.join()
    assert busy[0].status_code == 200
    assert requests.put(f"{stack.url}/apps/{app}/quota", data={"limit": "9"},
                        headers=admin).status_code == 200  # fmt: skip


def test_cname_routes_and_removal(stack: Stack, deployed) -> None:  # type: ignore[no-untyped-def]
    app, admin = deployed
    cname = f"www.{app}.example.com"
    r = requests.post(f"{stack.url}/apps/{app}/cname", data={"cname": cname}, headers=admin,
                      timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    rebuilt = requests.post(f"{stack.url}/apps/{app}/routes", headers=admin, timeout=60).json()
    assert set(rebuilt) == {"tsubame"} and "PrefixResults" in rebuilt["tsubame"]
    r = requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300)
    msgs = [x.get("Message", "") for x in _stream(r)]
    assert msgs[0] == f'---- Removing application "{app}"...\n'
    assert msgs[-1] == "---- Done removing application.\n", msgs
    assert requests.get(f"{stack.url}/apps/{app}", headers=admin).status_code == 404
    # The cname is free for another app.
    other = f"rt-{secrets.token_hex(4)}"
    team = requests.get(f"{stack.url}/teams", headers=admin).json()[0]["name"]
    requests.post(f"{stack.url}/apps", data={"name": other, "teamOwner": team}, headers=admin)
    assert requests.post(f"{stack.url}/apps/{other}/cname", data={"cname": cname},
                         headers=admin, timeout=60).status_code == 200  # fmt: skip
