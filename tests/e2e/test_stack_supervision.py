"""The launcher heals the stack by itself (issue 7, item 3).

Each kind of process is killed with SIGKILL by its pid, taken from the stack's own
records, and nothing restarts it but the supervisor: the test only waits until the
stack answers again through the gateway (or, for a bus worker, until its queues have
a consumer again). Heal times are recorded as test properties and printed
(``pytest -s``); bench/heal.py measures them on their own.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pika
import pytest
import requests

from scripts.procs import group_members
from scripts.stack import Stack
from shared.bus import amqp
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

HEAL_WITHIN = 90.0  # a bound so a broken supervisor fails the test instead of hanging


@pytest.fixture
def healed(stack: Stack) -> Iterator[Stack]:
    assert stack.supervisor.running, "the e2e stack runs supervised"
    yield stack
    stack.wait_healthy(HEAL_WITHIN)


def kill_and_heal(
    stack: Stack,
    name: str,
    answers: Callable[[], bool],
    record: Callable[[str, object], None],
    pid: int | None = None,
) -> float:
    """SIGKILL ``name`` (or one ``pid`` of its group); seconds until ``answers()``."""
    leader = stack.process_groups()[name]
    restarts = restarts_of(stack, name)
    started = time.monotonic()
    os.kill(pid or leader, signal.SIGKILL)
    # Killing a gunicorn master leaves its workers serving for a moment (until the
    # launcher reaps the group): healed means restarted by the launcher, then answering.
    while not ((pid is not None or restarts_of(stack, name) > restarts) and answers()):
        assert time.monotonic() - started < HEAL_WITHIN, f"{name} did not heal"
        time.sleep(0.05)
    took = time.monotonic() - started
    record(f"heal_seconds[{name}{'' if pid is None else ' worker'}]", round(took, 3))
    print(f"\nheal time after kill -9 of {name}{'' if pid is None else ' (a worker)'}: {took:.2f}s")
    stack.wait_healthy(HEAL_WITHIN)
    after = {p["name"]: p for p in stack.processes()}[name]
    if pid is None:  # the launcher restarted the whole process
        assert after["pid"] != leader
        assert after["restarts"] == restarts + 1
        log = (stack.logs_dir / "launcher.log").read_text()
        assert f"{name} (pid {leader}) exited with signal SIGKILL" in log
        assert f"{name} is healthy again" in log
    return took


def restarts_of(stack: Stack, name: str) -> int:
    return int({p["name"]: p["restarts"] for p in stack.processes()}[name])  # type: ignore[call-overload]


def ok(call: Callable[[], requests.Response], *statuses: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return call().status_code in (statuses or (200,))
        except requests.RequestException:
            return False

    return check


def test_a_killed_service_is_restarted(
    healed: Stack, admin_token: str, record_property: Callable[[str, object], None]
) -> None:
    stack = healed
    info = ok(lambda: requests.get(f"{stack.url}/users/info", headers=bearer(admin_token)))
    assert info()
    kill_and_heal(stack, "auth", info, record_property)
    # tsuru answers 204 for an empty event list.
    events = ok(lambda: requests.get(f"{stack.url}/events", headers=bearer(admin_token)), 200, 204)
    assert events()
    kill_and_heal(stack, "events", events, record_property)


def test_a_killed_gunicorn_worker_is_replaced(
    healed: Stack, admin_token: str, record_property: Callable[[str, object], None]
) -> None:
    stack = healed
    leader = stack.process_groups()["auth"]
    workers = [pid for pid in group_members(leader) if pid != leader]
    assert workers
    info = ok(lambda: requests.get(f"{stack.url}/users/info", headers=bearer(admin_token)))
    kill_and_heal(stack, "auth", info, record_property, pid=workers[0])
    assert stack.process_groups()["auth"] == leader  # gunicorn itself replaced its worker


def test_a_killed_gateway_is_restarted(
    healed: Stack, record_property: Callable[[str, object], None]
) -> None:
    stack = healed
    health = ok(lambda: requests.get(f"{stack.url}/healthcheck", timeout=5))
    kill_and_heal(stack, "gateway", health, record_property)


def test_a_killed_database_is_restarted(
    healed: Stack,
    admin_credentials: tuple[str, str],
    record_property: Callable[[str, object], None],
) -> None:
    stack = healed
    email, password = admin_credentials
    login = ok(
        lambda: requests.post(
            f"{stack.url}/auth/login", data={"email": email, "password": password}, timeout=10
        )
    )
    assert login()
    kill_and_heal(stack, "mongo", login, record_property)


def test_a_killed_bus_worker_is_restarted(
    healed: Stack, record_property: Callable[[str, object], None]
) -> None:
    stack = healed
    queues = [
        amqp.queue_name(stack.namespace, q)
        for q in ("events.webhook-dispatch", "events.webhook-deliveries")
    ]

    def consuming() -> bool:
        conn = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
        try:
            channel = conn.channel()
            return all(
                channel.queue_declare(q, passive=True).method.consumer_count > 0 for q in queues
            )
        finally:
            conn.close()

    assert consuming()
    kill_and_heal(stack, "events-worker", consuming, record_property)
    # A worker without queues yet: healed once it runs again.
    kill_and_heal(
        stack,
        "apps-worker",
        lambda: {p["name"]: p["state"] for p in stack.processes()}["apps-worker"] == "up",
        record_property,
    )


def test_a_process_killed_on_purpose_stays_down_until_started(healed: Stack) -> None:
    stack = healed
    stack.kill_worker("catalog")
    time.sleep(1.5)  # several supervisor rounds
    assert not stack.worker_running("catalog")
    assert "catalog-worker" in stack.dead_processes()
    stack.start_worker("catalog")
    assert stack.worker_running("catalog")
