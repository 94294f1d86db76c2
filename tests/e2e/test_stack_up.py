"""The real stack comes up under the launcher, and survives losing a service."""

from __future__ import annotations

import pytest

from scripts.procs import group_members, port_open
from scripts.stack import CONTEXTS, Stack
from tests.e2e.plainhttp import get

pytestmark = pytest.mark.e2e


def test_every_service_answers_health_on_its_own_port(stack: Stack) -> None:
    for ctx in CONTEXTS:
        urls = stack.service_urls(ctx)
        assert urls, ctx
        for url in urls:
            status, body = get(url + "/internal/health")
            assert status == 200, (ctx, body)
            assert body.strip() == b"ok", (ctx, body)


def test_gateway_healthcheck(stack: Stack) -> None:
    status, body = get(stack.url + "/healthcheck")
    assert status == 200, body
    assert stack.url == f"http://127.0.0.1:{stack.port}"


def test_every_worker_keeps_running(stack: Stack) -> None:
    for ctx in CONTEXTS:
        assert stack.worker_running(ctx), stack.log_path(f"{ctx}-worker").read_text()[-2000:]
    assert stack.dead_processes() == []


def test_killed_service_comes_back_on_the_same_port(live_stack: Stack) -> None:
    url = live_stack.service_urls("events")[0]
    port = int(url.rsplit(":", 1)[1])
    old_group = live_stack.process_groups()["events"]

    live_stack.kill_service("events")
    assert group_members(old_group) == []
    assert not port_open("127.0.0.1", port)

    live_stack.start_service("events")
    assert get(url + "/internal/health")[0] == 200
    assert get(live_stack.url + "/healthcheck")[0] == 200


def test_killed_worker_is_revived(live_stack: Stack) -> None:
    live_stack.kill_worker("apps")
    assert not live_stack.worker_running("apps")
    assert live_stack.revive() == ["apps-worker"]
    assert live_stack.worker_running("apps")
