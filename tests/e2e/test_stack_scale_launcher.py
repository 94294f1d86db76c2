"""Scaling with the launcher over stand-in apps (scripts/standins.py).

What the launcher promises when it scales (instances, ports, the instance registry,
rollback of a failed scale-up), and that workers of one context share their command
queue, each command handled once: the provisioner's stand-in worker serves a test
command through the real bus (shared/worker.py, shared/bus) and the real RabbitMQ. (A
real command finished by the other real provisioner worker when its own is killed:
tests/e2e/test_stack_scaling.py.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.procs import group_members, port_open
from scripts.stack import Stack, StackError
from scripts.standins import write_standins
from shared import instances as registry
from shared.bus import Bus
from tests.e2e.plainhttp import get

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, namespace: str) -> Iterator[Stack]:
    root = write_standins(tmp_path_factory.mktemp("standins"), command_workers=("provisioner",))
    started = Stack(
        tmp_path_factory.mktemp("scale-launcher"),
        env_overrides={"TSUBAME_NAMESPACE": f"{namespace}_scale", "TSUBAME_MONGO_URL": ""},
        instances={"auth": 2, "provisioner-worker": 2},
        app_root=root,
    )
    started.start()
    try:
        yield started
    finally:
        groups = started.process_groups()
        started.stop()
        assert {n: group_members(g) for n, g in groups.items() if group_members(g)} == {}


def registry_of(stack: Stack) -> dict[str, list[tuple[str, str]]]:
    found = registry.read(stack.registry_path)
    assert found is not None
    return {ctx: [(r.url, r.state) for r in rs] for ctx, rs in found.services.items()}


def test_instances_at_start_are_in_the_registry(stack: Stack) -> None:
    assert stack.counts()["auth"] == 2
    assert stack.counts()["provisioner-worker"] == 2
    assert stack.env["TSUBAME_INSTANCES_FILE"] == str(stack.registry_path)
    auth = stack.service_urls("auth")
    assert registry_of(stack)["auth"] == [(url, "up") for url in auth]
    assert registry_of(stack)["apps"] == [(stack.service_urls("apps")[0], "up")]
    names = set(stack.process_groups())
    assert {"auth", "auth-2", "provisioner-worker", "provisioner-worker-2"} <= names


def test_scale_up_and_down(stack: Stack) -> None:
    counts = stack.scale({"apps": 3, "events-worker": 2, "gateway": 2})
    assert (counts["apps"], counts["events-worker"], counts["gateway"]) == (3, 2, 2)
    apps = stack.service_urls("apps")
    assert len(set(apps)) == 3
    for url in apps:
        assert get(url + "/internal/health") == (200, b"ok")
    assert registry_of(stack)["apps"] == [(url, "up") for url in apps]
    groups = stack.process_groups()
    assert {"apps-2", "apps-3", "events-worker-2", "gateway-2"} <= set(groups)
    # Both gateway instances serve the one public port.
    assert get(stack.url + "/healthcheck") == (200, b"WORKING")

    removed = {name: groups[name] for name in ("apps-2", "apps-3", "events-worker-2", "gateway-2")}
    counts = stack.scale({"apps": 1, "events-worker": 1, "gateway": 1})
    assert (counts["apps"], counts["events-worker"], counts["gateway"]) == (1, 1, 1)
    assert stack.service_urls("apps") == apps[:1]
    assert registry_of(stack)["apps"] == [(apps[0], "up")]
    for name, pgid in removed.items():
        assert group_members(pgid) == [], name
        assert name not in stack.process_groups()
    for url in apps[1:]:
        assert not port_open("127.0.0.1", int(url.rsplit(":", 1)[1]))
    assert get(stack.url + "/healthcheck") == (200, b"WORKING")
    log = (stack.logs_dir / "launcher.log").read_text()
    assert "draining apps-3" in log and "starting gateway-2" in log


def _churn(url: str, stop: threading.Event, errors: list[str], served: list[int]) -> None:
    """New connections one after another, one request each, until ``stop``."""
    while not stop.is_set():
        try:
            answer = get(url + "/healthcheck")  # a connection of its own, closed after
        except OSError as exc:  # reset, or closed unanswered (RemoteDisconnected)
            errors.append(repr(exc))
            continue
        if answer[0] == 200:
            served.append(1)
        else:
            errors.append(repr(answer))


def test_a_gateway_scaled_away_loses_no_new_connection(stack: Stack) -> None:
    # Connections still in a closing listener's accept queue go to the other instance
    # (the launcher turned net.ipv4.tcp_migrate_req on); without it some are reset.
    log = (stack.logs_dir / "launcher.log").read_text()
    assert "net.ipv4.tcp_migrate_req is on" in log or "tcp_migrate_req turned on" in log
    for _ in range(3):
        stack.scale({"gateway": 2})
        stop = threading.Event()
        errors: list[str] = []
        served: list[int] = []
        clients = [
            threading.Thread(target=_churn, args=(stack.url, stop, errors, served))
            for _ in range(20)
        ]
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.0)
            stack.scale({"gateway": 1})
            time.sleep(0.5)
        finally:
            stop.set()
            for thread in clients:
                thread.join(30)
        assert errors == [], (len(errors), len(served), errors[:5])
        assert len(served) > 100


def test_bad_counts_change_nothing(stack: Stack) -> None:
    before = stack.counts()
    for bad in ({"mongo": 2}, {"apps": 0}, {"apps": 17}, {"nope": 1}, {"apps": "2"}):
        with pytest.raises(ValueError):
            stack.scale(bad)  # type: ignore[arg-type]
    assert stack.counts() == before


def test_a_failed_scale_up_stops_what_it_started(stack: Stack) -> None:
    marker = stack.data_dir / "fail-new-workers"
    marker.touch()
    before = stack.counts()
    groups = stack.process_groups()
    try:
        with pytest.raises(StackError, match="provisioner-worker-3"):
            stack.scale({"apps": 2, "provisioner-worker": 3})
    finally:
        marker.unlink()
    assert stack.counts() == before
    assert "provisioner-worker-3" not in stack.process_groups()
    assert "apps-2" not in stack.process_groups()
    assert stack.process_groups() == groups
    assert len(registry_of(stack)["apps"]) == 1


def test_commands_are_shared_by_the_workers_and_handled_once(stack: Stack) -> None:
    workers = {stack.process_groups()[n] for n in ("provisioner-worker", "provisioner-worker-2")}
    bus = Bus(stack.amqp_url, stack.namespace)
    try:
        sent = [
            bus.send_command("provisioner", {"id": f"s{i}", "seconds": 0.5}, timeout=60)
            for i in range(6)
        ]
        for replies in sent:
            assert list(replies)[-1] == {"final": True, "error": ""}
    finally:
        bus.close()
    handled = [(stack.data_dir / "handled" / f"s{i}").read_text().split() for i in range(6)]
    assert all(len(pids) == 1 for pids in handled)  # each command once
    assert {int(pids[0]) for pids in handled} == workers  # by both workers


def test_status_of_every_process(stack: Stack) -> None:
    status = {p["name"]: p for p in stack.processes()}
    assert status["auth-2"]["state"] == "up" and status["auth-2"]["running"]
    assert status["auth-2"]["url"] == stack.service_urls("auth")[1]
    json.dumps(stack.processes())  # what the control socket sends


def test_logs_name_each_instance(stack: Stack) -> None:
    assert Path(stack.log_path("provisioner-worker-2")).exists()
    assert "Listening at" in stack.log_path("auth-2").read_text()
