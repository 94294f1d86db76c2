"""The launcher itself (scripts/stack.py), run over stand-in apps.

These tests do not depend on the real services: they check what the launcher
promises (ports, environment, health waits, kill and restart, persistence, no
orphans) with modules that only honour the process contract.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from gateway.worker import FRONT_SOCKET_ENV
from scripts.procs import group_members, port_open
from scripts.stack import CONTEXTS, Stack, StackError
from scripts.standins import write_standins
from shared.httpserver import PREPARED_ENV
from tests.e2e.plainhttp import get

pytestmark = pytest.mark.e2e


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def live_members(groups: dict[str, int]) -> dict[str, list[int]]:
    found = {name: group_members(pgid) for name, pgid in groups.items()}
    return {name: pids for name, pids in found.items() if pids}


@pytest.fixture(scope="module")
def standin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standins(tmp_path_factory.mktemp("standins"))


@pytest.fixture(scope="module")
def standin_stack(
    standin_root: Path, tmp_path_factory: pytest.TempPathFactory, namespace: str
) -> Iterator[Stack]:
    stack = Stack(
        tmp_path_factory.mktemp("launcher"),
        port=None,
        env_overrides={
            "TSUBAME_NAMESPACE": f"{namespace}_launcher",
            "TSUBAME_MONGO_URL": "",
            "TSUBAME_EXTRA_FOR_TEST": "passed-through",
        },
        instances={"auth": 2},
        app_root=standin_root,
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_every_process_is_up_and_healthy(standin_stack: Stack) -> None:
    for ctx in CONTEXTS:
        for url in standin_stack.service_urls(ctx):
            assert get(url + "/internal/health") == (200, b"ok"), ctx
    assert get(standin_stack.url + "/healthcheck") == (200, b"WORKING")
    for ctx in CONTEXTS:
        assert standin_stack.worker_running(ctx)
    assert standin_stack.dead_processes() == []


def test_instances_run_on_separate_ports(standin_stack: Stack) -> None:
    auth = standin_stack.service_urls("auth")
    assert len(auth) == 2 and len({port_of(u) for u in auth}) == 2
    assert standin_stack.env["TSUBAME_AUTH_URLS"] == ",".join(auth)
    assert len(standin_stack.service_urls("apps")) == 1


def test_every_process_gets_the_same_environment(standin_stack: Stack) -> None:
    status, body = get(standin_stack.url + "/env")
    assert status == 200
    seen = json.loads(body)
    env = standin_stack.env
    for key in (
        "TSUBAME_DATA_DIR",
        "TSUBAME_NAMESPACE",
        "TSUBAME_MONGO_URL",
        "TSUBAME_AMQP_URL",
        "TSUBAME_IDENTITY_SECRET",
        "TSUBAME_PORT",
        "TSUBAME_BIND",
    ):
        assert seen[key] == env[key], key
    for ctx in CONTEXTS:
        assert seen[f"TSUBAME_{ctx.upper()}_URLS"] == ",".join(standin_stack.service_urls(ctx))
    assert seen["TSUBAME_EXTRA_FOR_TEST"] == "passed-through"
    assert seen["TSUBAME_PORT"] == str(standin_stack.port)
    status, body = get(standin_stack.service_urls("catalog")[0] + "/env")
    catalog = json.loads(body)
    # The same, but for each process's own name (its log lines and metrics carry it).
    assert (seen.pop("TSUBAME_PROCESS_NAME"), catalog.pop("TSUBAME_PROCESS_NAME")) == (
        "gateway",
        "catalog",
    )
    # The gateway's gunicorn also gets what its front (gateway/frontproc.py) sets for it.
    assert seen.pop(FRONT_SOCKET_ENV).endswith(".sock")
    assert seen.pop(PREPARED_ENV) == str(standin_stack.data_dir / "run" / "metrics" / "gateway")
    assert catalog == seen


def test_data_dir_holds_secret_stack_env_and_logs(standin_stack: Stack) -> None:
    data = standin_stack.data_dir
    secret = data / "identity_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_text().strip() == standin_stack.env["TSUBAME_IDENTITY_SECRET"]
    assert len(secret.read_text().strip()) >= 16
    written = dict(
        line.split("=", 1)
        for line in (data / "stack.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert written["TSUBAME_PORT"] == str(standin_stack.port)
    assert written["TSUBAME_AUTH_URLS"] == standin_stack.env["TSUBAME_AUTH_URLS"]
    assert written["TSUBAME_MONGO_URL"] == standin_stack.mongo_url
    assert "TSUBAME_IDENTITY_SECRET" not in written
    for name in ["mongo", "gateway", "auth", "auth-2", *(f"{c}-worker" for c in CONTEXTS)]:
        assert standin_stack.log_path(name).exists(), name
    assert "stand-in worker consuming" in standin_stack.log_path("apps-worker").read_text()
    assert (data / "mongo").is_dir()


def test_mongo_answers_at_mongo_url(standin_stack: Stack) -> None:
    client: MongoClient = MongoClient(standin_stack.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        assert client.admin.command("ping")["ok"] == 1
    finally:
        client.close()


def test_kill_service_then_start_service(standin_stack: Stack) -> None:
    url = standin_stack.service_urls("catalog")[0]
    old_group = standin_stack.process_groups()["catalog"]
    standin_stack.kill_service("catalog")
    assert not standin_stack.service_running("catalog")
    assert not port_open("127.0.0.1", port_of(url))
    assert group_members(old_group) == []
    assert "catalog" in standin_stack.dead_processes()

    standin_stack.start_service("catalog")
    assert standin_stack.service_running("catalog")
    assert get(url + "/internal/health") == (200, b"ok")
    assert standin_stack.process_groups()["catalog"] != old_group


def test_kill_one_instance_leaves_the_other(standin_stack: Stack) -> None:
    first, second = standin_stack.service_urls("auth")
    standin_stack.kill_service("auth", instance=1)
    assert get(first + "/internal/health") == (200, b"ok")
    assert not port_open("127.0.0.1", port_of(second))
    assert standin_stack.revive() == ["auth-2"]
    assert get(second + "/internal/health") == (200, b"ok")


def test_kill_worker_then_start_worker(standin_stack: Stack) -> None:
    standin_stack.kill_worker("events")
    assert not standin_stack.worker_running("events")
    standin_stack.start_worker("events")
    assert standin_stack.worker_running("events")


def test_stop_leaves_no_process_behind(
    standin_root: Path, tmp_path: Path, mongo_url: str, namespace: str
) -> None:
    stack = Stack(
        tmp_path / "data",
        env_overrides={"TSUBAME_NAMESPACE": f"{namespace}_stop", "TSUBAME_WORKERS": "2"},
        app_root=standin_root,
    )
    stack.start()
    groups = stack.process_groups()
    members = live_members(groups)
    # the front (gateway/front.py), gunicorn's master and its two workers in one group
    assert len(members["gateway"]) == 4
    assert set(members) == set(groups)
    stack.stop()
    assert live_members(groups) == {}
    assert not port_open("127.0.0.1", stack.port)
    for pids in members.values():
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), pid


def test_the_gateway_runs_its_own_worker_count(
    standin_root: Path, tmp_path: Path, mongo_url: str, namespace: str
) -> None:
    with Stack(
        tmp_path / "data",
        env_overrides={
            "TSUBAME_NAMESPACE": f"{namespace}_gwworkers",
            "TSUBAME_MONGO_URL": mongo_url,
            "TSUBAME_WORKERS": "2",
            "TSUBAME_GATEWAY_WORKERS": "1",
        },
        app_root=standin_root,
    ) as stack:
        members = live_members(stack.process_groups())
        assert len(members["gateway"]) == 3  # the front, gunicorn's master and one worker
        assert len(members["auth"]) == 3  # the services keep TSUBAME_WORKERS
        assert get(stack.url + "/healthcheck") == (200, b"WORKING")


@pytest.mark.parametrize("value", ["0", "two", "-1", "\u00b2"])
def test_a_bad_gateway_worker_count_is_refused(
    value: str, standin_root: Path, tmp_path: Path, mongo_url: str
) -> None:
    stack = Stack(
        tmp_path / "data",
        env_overrides={"TSUBAME_MONGO_URL": mongo_url, "TSUBAME_GATEWAY_WORKERS": value},
        app_root=standin_root,
    )
    with pytest.raises(StackError, match="TSUBAME_GATEWAY_WORKERS must be a number >= 1"):
        stack.start()
    assert stack.process_groups() == {}


def _is_zombie(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text[text.rfind(")") + 2 :].split()[0] == "Z"


def test_given_mongo_url_starts_no_database(
    standin_root: Path, tmp_path: Path, mongo_url: str, namespace: str
) -> None:
    with Stack(
        tmp_path / "data",
        env_overrides={"TSUBAME_NAMESPACE": f"{namespace}_ext", "TSUBAME_MONGO_URL": mongo_url},
        app_root=standin_root,
    ) as stack:
        assert "mongo" not in stack.process_groups()
        assert stack.mongo_url == mongo_url
        assert not (tmp_path / "data" / "mongo").exists()


def test_secret_and_data_survive_a_restart(
    standin_root: Path, tmp_path: Path, namespace: str
) -> None:
    data = tmp_path / "data"
    overrides = {"TSUBAME_NAMESPACE": f"{namespace}_restart", "TSUBAME_MONGO_URL": ""}
    with Stack(data, env_overrides=overrides, app_root=standin_root) as first:
        secret = first.env["TSUBAME_IDENTITY_SECRET"]
        client: MongoClient = MongoClient(first.mongo_url)
        client["persist"]["things"].insert_one({"_id": "kept"})
        client.close()
    with Stack(data, env_overrides=overrides, app_root=standin_root) as second:
        assert second.env["TSUBAME_IDENTITY_SECRET"] == secret
        client = MongoClient(second.mongo_url)
        assert client["persist"]["things"].find_one({"_id": "kept"}) == {"_id": "kept"}
        client.close()


def test_default_namespace_comes_from_the_data_dir(
    standin_root: Path, tmp_path: Path, mongo_url: str
) -> None:
    from shared.settings import default_namespace

    overrides = {"TSUBAME_MONGO_URL": mongo_url}
    if "TSUBAME_NAMESPACE" in os.environ:
        overrides["TSUBAME_NAMESPACE"] = ""  # ignore the caller's, test the default
    with Stack(tmp_path / "data", env_overrides=overrides, app_root=standin_root) as stack:
        assert stack.namespace == default_namespace(str(tmp_path / "data"))


def test_a_failing_service_stops_start_with_its_log(
    tmp_path: Path, mongo_url: str, namespace: str
) -> None:
    root = write_standins(
        tmp_path / "apps",
        broken={"services/provisioner/wsgi.py": "raise RuntimeError('provisioner is broken')\n"},
    )
    stack = Stack(
        tmp_path / "data",
        env_overrides={"TSUBAME_NAMESPACE": f"{namespace}_broken", "TSUBAME_MONGO_URL": mongo_url},
        app_root=root,
    )
    with pytest.raises(StackError) as info:
        stack.start(timeout=60)
    assert "provisioner" in str(info.value)
    assert "provisioner is broken" in str(info.value)
    assert live_members(stack.process_groups()) == {}


def test_a_busy_gateway_port_is_refused(
    standin_stack: Stack, standin_root: Path, tmp_path: Path, mongo_url: str
) -> None:
    stack = Stack(
        tmp_path / "data",
        port=standin_stack.port,
        env_overrides={"TSUBAME_MONGO_URL": mongo_url},
        app_root=standin_root,
    )
    with pytest.raises(StackError, match="already in use"):
        stack.start()
    assert stack.process_groups() == {}
