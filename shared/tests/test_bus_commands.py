"""Commands: a persistent request, streamed progress, a final reply, redelivery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.bus import Bus, CommandTimeout, Reply
from shared.errors import Invalid
from shared.tests.conftest import WAIT, BusNamespace, Connections, force_close

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def deploy(command: dict[str, Any], reply: Reply) -> None:
    for step in ("building", "starting"):
        reply({"message": f"{step} {command['app']}\n"})


def test_command_round_trip_streams_progress_then_final(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.commands("provisioner")
    running(lambda stop: bus.serve_commands("provisioner", deploy, stop=stop))
    bus_ns.wait_consumers(queue)

    replies = list(bus.send_command("provisioner", {"app": "myapp"}, timeout=WAIT))

    assert replies == [
        {"message": "building myapp\n"},
        {"message": "starting myapp\n"},
        {"final": True, "error": ""},
    ]
    assert bus_ns.depth(queue) == (0, 1)  # acked


def test_handler_error_is_the_final_reply_and_the_command_is_not_retried(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.commands("provisioner")
    calls: list[dict[str, Any]] = []

    def failing(command: dict[str, Any], reply: Reply) -> None:
        calls.append(command)
        reply({"message": "trying\n"})
        raise RuntimeError("no nodes available")

    running(lambda stop: bus.serve_commands("provisioner", failing, stop=stop))
    bus_ns.wait_consumers(queue)

    replies = list(bus.send_command("provisioner", {"app": "x"}, timeout=WAIT))

    assert replies == [{"message": "trying\n"}, {"final": True, "error": "no nodes available"}]
    assert calls == [{"app": "x"}]
    assert bus_ns.depth(queue) == (0, 1)
    assert bus_ns.depth(queue + ".dead") == (0, 0)


def test_a_result_travels_in_the_final_reply_also_with_an_error(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.commands("provisioner")

    class ExitCode(Exception):
        result = {"exit_code": 3}

    def handler(command: dict[str, Any], reply: Reply) -> dict[str, Any]:
        if command["app"] == "bad":
            raise ExitCode("unexpected exit code: 3")
        if command["app"] == "refused":
            raise Invalid("You must provide the command to run")
        return {"version": 2}

    running(lambda stop: bus.serve_commands("provisioner", handler, stop=stop))
    bus_ns.wait_consumers(queue)

    good = list(bus.send_command("provisioner", {"app": "good"}, timeout=WAIT))
    bad = list(bus.send_command("provisioner", {"app": "bad"}, timeout=WAIT))

    assert good == [{"final": True, "error": "", "result": {"version": 2}}]
    assert bad == [{"final": True, "error": "unexpected exit code: 3", "result": {"exit_code": 3}}]


def test_command_waits_in_its_queue_until_a_server_starts(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.commands("apps")
    replies = bus.send_command("apps", {"app": "later"}, timeout=WAIT)
    assert bus_ns.depth(queue) == (1, 0)  # confirmed, persistent, waiting

    server = bus_ns.bus()
    try:
        running(lambda stop: server.serve_commands("apps", deploy, stop=stop))
        assert list(replies)[-1] == {"final": True, "error": ""}
    finally:
        server.close()


def test_no_reply_within_the_timeout_raises(bus: Bus, bus_ns: BusNamespace) -> None:
    bus_ns.commands("nobody")
    replies = bus.send_command("nobody", {"app": "x"}, timeout=0.5)
    with pytest.raises(CommandTimeout):
        next(replies)
    with pytest.raises(StopIteration):
        next(replies)  # closed after the timeout


def test_replies_are_matched_to_their_command(bus: Bus, bus_ns: BusNamespace, running: Any) -> None:
    queue = bus_ns.commands("provisioner")
    running(lambda stop: bus.serve_commands("provisioner", deploy, stop=stop))
    bus_ns.wait_consumers(queue)

    first = bus.send_command("provisioner", {"app": "one"}, timeout=WAIT)
    second = bus.send_command("provisioner", {"app": "two"}, timeout=WAIT)

    assert list(second)[0] == {"message": "building two\n"}
    assert list(first)[0] == {"message": "building one\n"}


CRASHING_SERVER = """
import os, sys
from shared.bus import Bus
bus = Bus(sys.argv[1], sys.argv[2])
def handler(command, reply):
    reply({"message": "building " + command["app"] + "\\n"})
    os._exit(3)  # the worker dies mid-command
bus.serve_commands("provisioner", handler)
"""


def test_server_crash_mid_command_redelivers_it(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.commands("provisioner")
    replies = bus.send_command("provisioner", {"app": "myapp"}, timeout=WAIT)
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SERVER, bus_ns.amqp_url, bus_ns.name], cwd=ROOT
    )
    try:
        assert next(replies) == {"message": "building myapp\n"}
        assert proc.wait(timeout=WAIT) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    running(lambda stop: bus.serve_commands("provisioner", deploy, stop=stop))
    # The sender sees the retried command's progress (handlers are idempotent).
    assert list(replies) == [
        {"message": "building myapp\n"},
        {"message": "starting myapp\n"},
        {"final": True, "error": ""},
    ]
    assert bus_ns.depth(queue) == (0, 1)


def test_command_server_resumes_after_the_broker_closes_its_connection(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    queue = bus_ns.commands("provisioner")
    running(lambda stop: bus.serve_commands("provisioner", deploy, stop=stop))
    bus_ns.wait_consumers(queue)
    assert list(bus.send_command("provisioner", {"app": "a"}, timeout=WAIT))[-1]["final"]

    force_close(bus_connections, f"{queue}.consumer")

    replies = list(bus.send_command("provisioner", {"app": "b"}, timeout=WAIT))
    assert replies[-1] == {"final": True, "error": ""}
    assert bus_connections.opened(f"{queue}.consumer") == 2


def test_closing_the_replies_early_releases_the_reply_queue(
    bus: Bus, bus_ns: BusNamespace, bus_connections: Connections
) -> None:
    bus_ns.commands("nobody")
    with bus.send_command("nobody", {"app": "x"}, timeout=WAIT):
        conn = bus_connections.by_name[f"{bus_ns.name}.command.nobody"][-1]
        assert conn.is_open
    assert conn.is_closed
