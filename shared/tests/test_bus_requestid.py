"""The request id travels in bus messages and commands, bound in the handler."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from shared import requestid
from shared.bus import Bus, Reply
from shared.tests.conftest import WAIT, BusNamespace, wait_for

pytestmark = pytest.mark.integration


def test_a_consumer_handles_a_message_under_the_publishers_id(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    seen: list[tuple[str, str | None]] = []
    lock = threading.Lock()

    def handler(key: str, body: dict[str, Any]) -> None:
        with lock:
            seen.append((body["n"], requestid.current()))

    queue = bus_ns.queue("rid")
    running(lambda stop: bus.consume("rid", ["apps.app.removed"], handler, stop=stop))
    bus_ns.wait_consumers(queue)
    with requestid.bound("abc"):
        bus.publish("apps.app.removed", {"n": "first"})
    with requestid.bound(None):  # no id bound: none travels
        bus.publish("apps.app.removed", {"n": "second"})
    wait_for(lambda: len(seen) == 2, what="both messages")
    assert sorted(seen, key=lambda s: s[0]) == [("first", "abc"), ("second", None)]


def test_a_command_runs_under_the_senders_id(bus: Bus, bus_ns: BusNamespace, running: Any) -> None:
    def handler(command: dict[str, Any], reply: Reply) -> dict[str, Any]:
        reply({"message": f"running under {requestid.current()}"})
        return {"rid": requestid.current()}

    running(lambda stop: bus.serve_commands("provisioner", handler, stop=stop))
    bus_ns.wait_consumers(bus_ns.commands("provisioner"))
    with requestid.bound("deploy-42"):
        replies = list(bus.send_command("provisioner", {"app": "x"}, timeout=WAIT))
    assert replies == [
        {"message": "running under deploy-42"},
        {"final": True, "error": "", "result": {"rid": "deploy-42"}},
    ]
