"""What the process backend promises a deployed app, checked through the gateway:
unit autoscale under real CPU load and back, the plan's memory as a hard limit (the
unit is killed, restarted and the reason is in the app log) and its CPU limit and
share on the unit's cgroups, volumes shared by an app's units (read-only binds
honoured), a crash restarted with its stderr and the reason in the app log, and the
catalogue refusing to remove a platform or a pool that apps use."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.stack import Stack
from tests.apps import sample_archive
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

MiB = 1 << 20


def name(prefix: str = "lim") -> str:
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
def archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return sample_archive(tmp_path_factory.mktemp("archive")).read_bytes()


def create(stack: Stack, admin: dict[str, str], team: str, **fields: str) -> str:
    app = name()
    data = {"name": app, "teamOwner": team, "platform": "python", **fields}
    r = requests.post(f"{stack.url}/apps", data=data, headers=admin, timeout=30)
    assert r.status_code == 201, r.text
    return app


def deploy(stack: Stack, admin: dict[str, str], app: str, archive: bytes) -> None:
    r = requests.post(
        f"{stack.url}/apps/{app}/deploy",
        files={"file": ("archive.tar.gz", archive, "application/gzip")},
        headers=admin,
        timeout=300,
    )
    assert r.status_code == 200 and r.text.rstrip().endswith("OK"), r.text[-3000:]


def stream(stack: Stack, admin: dict[str, str], method: str, path: str, **kw: Any) -> list[dict]:
    r = requests.request(method, f"{stack.url}{path}", headers=admin, timeout=300, **kw)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def errors(lines: list[dict]) -> list[str]:
    return [line["Error"] for line in lines if line.get("Error")]


def units(stack: Stack, admin: dict[str, str], app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}", headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    return list(r.json()["units"])


def at(unit: dict[str, Any], path: str, method: str = "GET", **kw: Any) -> requests.Response:
    return requests.request(method, f"http://{unit['Address']['Host']}{path}", timeout=10, **kw)


def app_log(stack: Stack, admin: dict[str, str], app: str) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.url}/apps/{app}/log?lines=500", headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    return [entry for line in r.text.splitlines() if line.strip() for entry in json.loads(line)]


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reached in {timeout}s: {what}"
        time.sleep(0.5)


def started(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [u for u in found if u["Status"] == "started" and u["Address"]]


def unit_state(stack: Stack, unit: dict[str, Any]) -> dict[str, Any]:
    path = stack.units_root() / "units" / unit["ID"] / "state.json"
    return dict(json.loads(path.read_text()))


def cgroup_file(pid: int, controller: str, filename: str) -> Path:
    """The file of the cgroup (v1 hierarchy ``controller``) the process ``pid`` is in."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path("/sys/fs/cgroup", controller, path.lstrip("/"), filename)
    raise AssertionError(f"process {pid} is in no {controller} cgroup")


# --- unit autoscale -----------------------------------------------------------------


def test_autoscale_adds_units_under_cpu_load_and_removes_them_after(
    stack: Stack, admin: dict[str, str], team: str, archive: bytes
) -> None:
    app = create(stack, admin, team)  # the default plan: 100 milli-CPU per unit
    deploy(stack, admin, app, archive)
    spec = {"process": "web", "minUnits": 1, "maxUnits": 3, "averageCPU": "20%"}
    r = requests.post(f"{stack.url}/apps/{app}/units/autoscale", json=spec, headers=admin)
    assert r.status_code == 200, r.text
    listed = requests.get(f"{stack.url}/apps/{app}/units/autoscale", headers=admin).json()
    assert listed == [{**spec, "version": 0}]
    r = requests.put(f"{stack.url}/apps/{app}/units", data={"units": "1", "process": "web"},
                     headers=admin, timeout=60)  # fmt: skip
    assert "cannot add units to an app with autoscaler configured" in r.text, r.text

    # Every unit burns its whole CPU quota: 5 times the target, so the autoscaler adds
    # units (the HPA rule) up to the maximum; each new unit is put to work as it comes.
    burning: set[str] = set()

    def loaded_to_the_maximum() -> bool:
        found = units(stack, admin, app)
        for unit in started(found):
            if unit["ID"] not in burning and at(unit, "/burn?seconds=240").status_code == 200:
                burning.add(unit["ID"])
        return len(started(found)) == 3 and burning >= {u["ID"] for u in found}

    until(loaded_to_the_maximum, 120, "three busy units")
    # Idle again: the autoscaler brings the process back to its minimum.
    for unit in started(units(stack, admin, app)):
        assert at(unit, "/burn?seconds=0").status_code == 200
    until(lambda: len(units(stack, admin, app)) == 1, 120, "back to one unit")
    [left] = units(stack, admin, app)
    assert left["Status"] == "started" and at(left, "/").status_code == 200
    lines = [e["Message"] for e in app_log(stack, admin, app) if e["Source"] == "tsuru"]
    assert any(m.startswith('---- Autoscaling process "web" from 1 to ') for m in lines), lines
    assert any(m.rstrip().endswith(" to 1 unit ----") for m in lines), lines
    r = requests.delete(f"{stack.url}/apps/{app}/units/autoscale?process=web", headers=admin)
    assert r.status_code == 200, r.text
    # None left: JSON null, as Go marshals tsuru's nil slice.
    assert requests.get(f"{stack.url}/apps/{app}/units/autoscale", headers=admin).json() is None


# --- the plan's limits -----------------------------------------------------------------


def test_the_plans_memory_is_a_hard_limit_and_its_cpu_applies(
    stack: Stack, admin: dict[str, str], team: str, archive: bytes
) -> None:
    plan = name("plan")
    r = requests.post(f"{stack.url}/plans", headers=admin, data={
        "name": plan, "memory": "96M", "cpumilli": "250", "cpushare": "512"})  # fmt: skip
    assert r.status_code == 201, r.text
    app = create(stack, admin, team, plan=plan)
    deploy(stack, admin, app, archive)
    [unit] = units(stack, admin, app)
    pid = int(unit_state(stack, unit)["pid"])
    # cgroup v1 on this machine (the backend's fallback without it: RLIMIT_AS and nice).
    assert int(cgroup_file(pid, "memory", "memory.limit_in_bytes").read_text()) == 96 * MiB
    assert int(cgroup_file(pid, "cpu", "cpu.cfs_quota_us").read_text()) == 25_000
    assert int(cgroup_file(pid, "cpu", "cpu.cfs_period_us").read_text()) == 100_000
    assert int(cgroup_file(pid, "cpu", "cpu.shares").read_text()) == 512

    assert at(unit, "/hog?mb=16").status_code == 200  # within the plan
    with pytest.raises(requests.ConnectionError):
        at(unit, "/hog?mb=256")  # past it: the kernel kills the unit before it answers

    def back() -> bool:
        [now] = units(stack, admin, app)
        return now["Restarts"] == 1 and now["Status"] == "started"

    until(back, 60, "the unit restarted after its out-of-memory kill")
    [unit] = units(stack, admin, app)
    assert at(unit, "/").status_code == 200
    reason = "killed by signal 9 (SIGKILL) (out of memory); restarted (1 restart in all)"

    def reported() -> bool:
        return any(
            e["Source"] == "tsuru" and e["Unit"] == unit["ID"] and reason in e["Message"]
            for e in app_log(stack, admin, app)
        )

    until(reported, 30, "the out-of-memory kill in the app log")
    assert requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300).ok
    assert requests.delete(f"{stack.url}/plans/{plan}", headers=admin).status_code == 200


# --- crashes ---------------------------------------------------------------------------


def test_a_crashed_unit_is_restarted_and_its_last_words_are_logged(
    stack: Stack, admin: dict[str, str], team: str, archive: bytes
) -> None:
    app = create(stack, admin, team)
    deploy(stack, admin, app, archive)
    [unit] = units(stack, admin, app)
    assert unit["Restarts"] == 0
    assert at(unit, "/crash").status_code == 200  # answers, then exits with status 3

    def back() -> bool:
        [now] = units(stack, admin, app)
        return now["Restarts"] == 1 and now["Status"] == "started"

    until(back, 60, "the crashed unit restarted")
    [again] = units(stack, admin, app)
    assert again["ID"] == unit["ID"] and at(again, "/").status_code == 200

    def logged() -> bool:
        entries = app_log(stack, admin, app)
        said = {(e["Source"], e["Unit"], e["Message"].strip()) for e in entries}
        return (
            ("web", unit["ID"], f"crashing on request (unit {unit['ID']})") in said  # stderr
            and any(
                e["Source"] == "tsuru"
                and e["Unit"] == unit["ID"]
                and "exited with status 3; restarted (1 restart in all)" in e["Message"]
                for e in entries
            )
        )

    until(logged, 30, "the unit's stderr and its restart in the app log")
    # Its supervisor killed too: the provisioner worker starts it again.
    state = unit_state(stack, again)
    os.kill(int(state["runner_pid"]), signal.SIGKILL)
    os.killpg(int(state["pid"]), signal.SIGKILL)
    until(lambda: started(units(stack, admin, app)) != [], 60, "the unit back with a runner")
    assert requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300).ok


# --- volumes ---------------------------------------------------------------------------


def test_a_volume_is_shared_by_the_apps_units_and_readonly_binds_hold(
    stack: Stack, admin: dict[str, str], team: str, archive: bytes
) -> None:
    app = create(stack, admin, team)
    deploy(stack, admin, app, archive)
    lines = stream(stack, admin, "PUT", f"/apps/{app}/units", data={"units": "1", "process": "web"})
    assert errors(lines) == []
    volume = name("vol")
    r = requests.post(f"{stack.url}/volumes", headers=admin, data={
        "name": volume, "pool": "theonepool", "teamOwner": team, "plan.name": "local"})  # fmt: skip
    assert r.status_code == 201, r.text
    lines = stream(stack, admin, "POST", f"/volumes/{volume}/bind",
                   data={"App": app, "MountPoint": "/data"})  # fmt: skip
    assert errors(lines) == [], lines  # the app restarted with the volume mounted
    lines = stream(stack, admin, "POST", f"/volumes/{volume}/bind",
                   data={"App": app, "MountPoint": "/mnt/ro", "ReadOnly": "true"})  # fmt: skip
    assert errors(lines) == [], lines
    one, two = started(units(stack, admin, app))
    note = f"from {one['ID']}"
    assert at(one, "/file?path=/data/note", "PUT", data=note).status_code == 200
    got = at(two, "/file?path=/data/note")
    assert (got.status_code, got.text) == (200, note)
    got = at(two, "/file?path=/mnt/ro/note")
    assert (got.status_code, got.text) == (200, note)
    refused = at(two, "/file?path=/mnt/ro/other", "PUT", data="no")
    assert refused.status_code == 500 and "Read-only file system" in refused.text
    assert at(one, "/file?path=/mnt/ro/note").text == note

    # Another app sees neither the volume nor this app's files.
    other = create(stack, admin, team)
    deploy(stack, admin, other, archive)
    [theirs] = units(stack, admin, other)
    assert at(theirs, "/file?path=/data/note").status_code == 404
    release = stack.units_root() / "apps" / app / "releases" / "1" / "app" / "app.py"
    assert release.is_file() and at(theirs, f"/file?path={release}").status_code == 403
    for outside in (release.parent / "intruder", stack.units_root() / "intruder"):
        assert at(theirs, f"/file?path={outside}", "PUT", data="x").status_code == 403
        assert not outside.exists()
    r = requests.delete(f"{stack.url}/volumes/{volume}", headers=admin)
    assert (r.status_code, r.text) == (400, "cannot delete volume with existing binds\n")
    for mountpoint in ("/data", "/mnt/ro"):
        r = requests.delete(f"{stack.url}/volumes/{volume}/bind", headers=admin, timeout=300,
                            params={"app": app, "mountpoint": mountpoint, "norestart": "true"})  # fmt: skip
        assert r.status_code == 200, r.text
    assert requests.delete(f"{stack.url}/volumes/{volume}", headers=admin).status_code == 200
    for gone in (app, other):
        assert requests.delete(f"{stack.url}/apps/{gone}", headers=admin, timeout=300).ok


# --- removal refused while apps use it --------------------------------------------------


def test_a_platform_lives_through_versions_and_stays_while_apps_use_it(
    stack: Stack, admin: dict[str, str], team: str
) -> None:
    platform = name("python")  # prepared as python: the backend goes by the name
    files = {"dockerfile_content": ("Dockerfile", b"FROM python:3.11\n")}
    r = requests.post(f"{stack.url}/platforms", data={"name": platform}, files=files,
                      headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200 and "Platform successfully added!" in r.text, r.text
    files = {"dockerfile_content": ("Dockerfile", b"FROM python:3.12\n")}
    r = requests.put(f"{stack.url}/platforms/{platform}", files=files, headers=admin, timeout=60)
    assert r.status_code == 200 and "Platform successfully updated!" in r.text, r.text
    info = requests.get(f"{stack.url}/platforms/{platform}", headers=admin).json()
    assert info == {
        "platform": {"Name": platform, "Disabled": False},
        "images": [f"tsuru/{platform}:v1", f"tsuru/{platform}:v2"],
    }
    app = create(stack, admin, team, platform=platform)
    r = requests.put(f"{stack.url}/platforms/{platform}", data={"disabled": "true"},
                     headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    info = requests.get(f"{stack.url}/platforms/{platform}", headers=admin).json()
    assert info["platform"] == {"Name": platform, "Disabled": True}
    r = requests.post(f"{stack.url}/platforms/{platform}/rollback",
                      data={"image": f"tsuru/{platform}:v1"}, headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200 and "Platform successfully updated!" in r.text, r.text
    images = requests.get(f"{stack.url}/platforms/{platform}", headers=admin).json()["images"]
    assert images == [f"tsuru/{platform}:v{n}" for n in (1, 2, 3)]
    r = requests.delete(f"{stack.url}/platforms/{platform}", headers=admin)
    assert (r.status_code, r.text) == (
        400,
        "Platform has apps. You must remove them before remove the platform.\n",
    )
    assert requests.get(f"{stack.url}/platforms/{platform}", headers=admin).status_code == 200
    assert requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300).ok
    assert requests.delete(f"{stack.url}/platforms/{platform}", headers=admin).status_code == 200
    r = requests.get(f"{stack.url}/platforms/{platform}", headers=admin)
    assert (r.status_code, r.text) == (404, "Platform doesn't exist.\n")


def test_a_pool_stays_while_apps_use_it(stack: Stack, admin: dict[str, str], team: str) -> None:
    pool = name("pool")
    r = requests.post(f"{stack.url}/pools", data={"name": pool, "public": "true"}, headers=admin)
    assert r.status_code == 201, r.text
    app = create(stack, admin, team, pool=pool)
    assert requests.get(f"{stack.url}/apps/{app}", headers=admin).json()["pool"] == pool
    r = requests.delete(f"{stack.url}/pools/{pool}", headers=admin)
    assert (r.status_code, r.text) == (
        403,
        "This pool has apps, you need to migrate or remove them before removing the pool\n",
    )
    assert requests.get(f"{stack.url}/pools/{pool}", headers=admin).status_code == 200
    assert requests.delete(f"{stack.url}/apps/{app}", headers=admin, timeout=300).ok
    assert requests.delete(f"{stack.url}/pools/{pool}", headers=admin).status_code == 200
