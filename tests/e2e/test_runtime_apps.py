"""Apps really run: deploys of tests/apps/sample through the gateway (``tsuru
app-deploy``'s upload), then unit operations, app-run, failures and crashes, observed
through the API and at the units' own addresses."""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from scripts.stack import Stack
from tests.apps import sample_archive
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

SLOW_BUILD = {"tsuru.yaml": "hooks:\n  build:\n    - sleep 6\nhealthcheck:\n  path: /healthcheck\n"}
BAD_HEALTH = {"tsuru.yaml": "healthcheck:\n  path: /nope\n  deploy_timeout_seconds: 10\n"}


def name(prefix: str = "run") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def admin(admin_token: str) -> dict[str, str]:
    return bearer(admin_token)


@pytest.fixture(scope="module")
def team(stack: Stack, admin: dict[str, str]) -> str:
    team = name("team")
    r = requests.post(f"{stack.url}/teams", data={"name": team}, headers=admin)
    assert r.status_code == 201, r.text
    return team


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    base = tmp_path_factory.mktemp("archives")

    def make(**extra: str | None) -> bytes:
        return sample_archive(base / secrets.token_hex(4), extra).read_bytes()

    return make


def create(stack: Stack, admin: dict[str, str], team: str) -> str:
    app = name()
    r = requests.post(
        f"{stack.url}/apps",
        data={"name": app, "teamOwner": team, "platform": "python"},
        headers=admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return app


def deploy(stack: Stack, admin: dict[str, str], app: str, archive: bytes) -> str:
    r = requests.post(
        f"{stack.url}/apps/{app}/deploy",
        files={"file": ("archive.tar.gz", io.BytesIO(archive), "application/gzip")},
        headers=admin,
        timeout=300,
    )
    assert r.status_code == 200, r.text
    return r.text


def stream(stack: Stack, admin: dict[str, str], method: str, path: str, **kw: Any) -> list[dict]:
    r = requests.request(method, f"{stack.url}{path}", headers=admin, timeout=300, **kw)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def messages(lines: list[dict]) -> str:
    return "".join(line.get("Message", "") for line in lines)


def errors(lines: list[dict]) -> list[str]:
    return [line["Error"] for line in lines if line.get("Error")]


def units(stack: Stack, admin: dict[str, str], app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    return list(r.json()["units"])


def answer(unit: dict[str, Any], path: str = "/") -> tuple[int, str]:
    host = unit["Address"]["Host"]
    r = requests.get(f"http://{host}{path}", timeout=5)
    return r.status_code, r.text


def until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reached in {timeout}s: {what}"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def deployed(
    stack: Stack, admin: dict[str, str], team: str, archives: Callable[..., bytes]
) -> Iterator[str]:
    app = create(stack, admin, team)
    out = deploy(stack, admin, app, archives())
    assert out.rstrip().endswith("OK"), out
    yield app


def test_a_deployed_app_runs_as_its_own_user(
    stack: Stack, admin: dict[str, str], deployed: str
) -> None:
    found = units(stack, admin, deployed)
    assert [(u["ProcessName"], u["Status"], u["Version"]) for u in found] == [("web", "started", 1)]
    status, body = answer(found[0])
    assert status == 200 and f"unit={found[0]['ID']}" in body
    uid = body.split("build=hook-ran-as-")[1].strip()
    assert uid.isdigit() and (uid != "0" or os.geteuid() != 0)


def test_units_up_and_down_stop_and_start(
    stack: Stack, admin: dict[str, str], deployed: str
) -> None:
    lines = stream(
        stack, admin, "PUT", f"/apps/{deployed}/units", data={"units": "2", "process": "web"}
    )
    assert errors(lines) == [] and "---- Starting 2 new units [web: 2] ----" in messages(lines)
    assert len(units(stack, admin, deployed)) == 3
    lines = stream(stack, admin, "DELETE", f"/apps/{deployed}/units?units=2&process=web")
    assert errors(lines) == [] and "---- Removing 2 units ----" in messages(lines)
    assert len(units(stack, admin, deployed)) == 1
    lines = stream(stack, admin, "POST", f"/apps/{deployed}/stop")
    assert messages(lines).startswith(f'\n ---> Stopping the app "{deployed}"\n')
    assert [u["Status"] for u in units(stack, admin, deployed)] == ["stopped"]
    lines = stream(stack, admin, "POST", f"/apps/{deployed}/start")
    assert errors(lines) == [] and messages(lines).startswith(
        f'\n ---> Starting the app "{deployed}"\n'
    )
    found = units(stack, admin, deployed)
    assert [u["Status"] for u in found] == ["started"] and answer(found[0])[0] == 200


def test_a_killed_unit_comes_back(stack: Stack, admin: dict[str, str], deployed: str) -> None:
    unit = units(stack, admin, deployed)[0]
    state = json.loads((stack.units_root() / "units" / unit["ID"] / "state.json").read_text())
    os.kill(int(state["pid"]), signal.SIGKILL)
    state = json.loads((stack.units_root() / "units" / unit["ID"] / "state.json").read_text())
    os.kill(int(state["runner_pid"]), signal.SIGKILL)  # its supervisor too: the worker's turn

    def back() -> bool:
        found = units(stack, admin, deployed)
        try:
            return [u["Status"] for u in found] == ["started"] and answer(found[0])[0] == 200
        except requests.RequestException:
            return False

    until(back, 30, "the unit started again")


def test_run_sees_its_app_and_cannot_read_another_apps_files(
    stack: Stack, admin: dict[str, str], team: str, deployed: str, archives: Callable[..., bytes]
) -> None:
    lines = stream(stack, admin, "POST", f"/apps/{deployed}/run", data={"command": "cat build.txt"})
    assert errors(lines) == [] and "hook-ran-as-" in messages(lines)
    other = create(stack, admin, team)
    assert deploy(stack, admin, other, archives()).rstrip().endswith("OK")
    theirs = stack.units_root() / "apps" / other / "releases" / "1" / "app" / "app.py"
    assert theirs.is_file()
    lines = stream(stack, admin, "POST", f"/apps/{deployed}/run", data={"command": f"cat {theirs}"})
    assert errors(lines) == ["unexpected exit code: 1"]
    assert "Permission denied" in messages(lines)
    lines = stream(
        stack, admin, "POST", f"/apps/{deployed}/run",
        data={"command": f"echo x > {stack.units_root()}/intruder", "isolated": "true"},
    )  # fmt: skip
    assert errors(lines) and not (stack.units_root() / "intruder").exists()


def test_a_failing_healthcheck_leaves_the_previous_version(
    stack: Stack, admin: dict[str, str], team: str, archives: Callable[..., bytes]
) -> None:
    app = create(stack, admin, team)
    assert deploy(stack, admin, app, archives()).rstrip().endswith("OK")
    before = units(stack, admin, app)
    out = deploy(stack, admin, app, archives(**BAD_HEALTH))
    assert "---- ERROR during deploy: ----" in out and not out.rstrip().endswith("OK")
    assert "wrong status code, expected 200, got: 404" in out
    after = units(stack, admin, app)
    assert [u["ID"] for u in after] == [u["ID"] for u in before]
    assert answer(after[0])[0] == 200


def test_the_worker_killed_mid_deploy_ends_clear(
    stack: Stack, admin: dict[str, str], team: str, archives: Callable[..., bytes]
) -> None:
    app = create(stack, admin, team)
    assert deploy(stack, admin, app, archives()).rstrip().endswith("OK")
    result: dict[str, str] = {}
    in_hooks = threading.Event()

    def slow_deploy() -> None:
        r = requests.post(
            f"{stack.url}/apps/{app}/deploy",
            files={
                "file": ("archive.tar.gz", io.BytesIO(archives(**SLOW_BUILD)), "application/gzip")
            },
            headers=admin,
            timeout=300,
            stream=True,
        )
        lines: list[str] = []
        for line in r.iter_lines(decode_unicode=True):
            lines.append(line)
            if "---- Running build hooks ----" in line:
                in_hooks.set()
        result["out"] = "\n".join(lines)

    thread = threading.Thread(target=slow_deploy)
    thread.start()
    # Killed inside the build hook's 6 s sleep: its line is streamed as it starts (a fixed
    # 3 s wait could land before the build on a loaded machine).
    assert in_hooks.wait(120), result
    assert thread.is_alive(), result
    worker = stack.process_groups()["provisioner-worker"]
    os.killpg(worker, signal.SIGKILL)  # the launcher brings it back; the command is redelivered
    thread.join(180)
    assert not thread.is_alive()
    out = result["out"]
    found = units(stack, admin, app)
    versions = {u["Version"] for u in found}
    if out.rstrip().endswith("OK"):
        assert versions == {2}, out
    else:
        assert versions == {1}, out
    assert all(u["Status"] == "started" for u in found) and answer(found[0])[0] == 200
    # No orphan: every unit process of the app is one the API lists.
    listed = {u["ID"] for u in found}
    until(
        lambda: (
            {p.name for p in (stack.units_root() / "units").iterdir() if p.name.startswith(app)}
            == listed
        ),
        20,
        "only listed units on disk",
    )
    deploys = requests.get(f"{stack.url}/deploys?app={app}", headers=admin, timeout=30).json()
    assert len(deploys) == 2 and all(d["Duration"] > 0 for d in deploys)
