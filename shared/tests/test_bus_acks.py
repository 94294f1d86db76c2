"""Manual acks: failed handlers run once more, then dead-letter; crashes redeliver."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from shared.bus import Bus
from shared.tests.conftest import WAIT, BusNamespace, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_failing_handler_gets_a_second_delivery(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.queue("flaky")
    calls: list[dict[str, Any]] = []

    def handler(_key: str, body: dict[str, Any]) -> None:
        calls.append(body)
        if len(calls) == 1:
            raise RuntimeError("transient failure")

    running(lambda stop: bus.consume("flaky", ["job.#"], handler, stop=stop))
    bus_ns.wait_consumers(queue)
    bus.publish("job.run", {"job": 1})
    wait_for(lambda: len(calls) == 2, what="the second delivery")
    # Acked after the successful run: nothing left, nothing dead-lettered.
    wait_for(lambda: bus_ns.depth(queue) == (0, 1), what="an empty queue")
    assert calls == [{"job": 1}, {"job": 1}]
    assert bus_ns.depth(queue + ".dead") == (0, 0)


def test_handler_failing_twice_dead_letters_the_message(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.queue("broken")
    calls: list[dict[str, Any]] = []

    def handler(_key: str, body: dict[str, Any]) -> None:
        calls.append(body)
        raise RuntimeError("always fails")

    running(lambda stop: bus.consume("broken", ["job.#"], handler, stop=stop))
    bus_ns.wait_consumers(queue)
    bus.publish("job.run", {"job": "poison"})
    bus.publish("job.run", {"job": "next"})

    wait_for(lambda: bus_ns.depth(queue + ".dead") == (2, 0), what="two dead letters")
    # Each ran exactly twice (a retried message may come back after later ones).
    assert sorted(c["job"] for c in calls) == ["next", "next", "poison", "poison"]
    assert bus_ns.depth(queue) == (0, 1)
    assert sorted(str(bus_ns.get(queue + ".dead")) for _ in range(2)) == [
        str({"job": "next"}),
        str({"job": "poison"}),
    ]


CRASHING_CONSUMER = """
import os, sys
from shared.bus import Bus
bus = Bus(sys.argv[1], sys.argv[2])
def handler(key, body):
    os._exit(3)  # die before the ack, as a killed worker would
bus.consume("crashy", ["job.#"], handler)
"""


def test_crash_before_ack_redelivers_to_the_next_consumer(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.queue("crashy")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_CONSUMER, bus_ns.amqp_url, bus_ns.name], cwd=ROOT
    )
    try:
        bus_ns.wait_consumers(queue)
        bus.publish("job.run", {"job": "survives"})
        assert proc.wait(timeout=WAIT) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_for(lambda: bus_ns.depth(queue) == (1, 0), what="the message back in the queue")

    got: list[dict[str, Any]] = []
    done = threading.Event()

    def handler(_key: str, body: dict[str, Any]) -> None:
        got.append(body)
        done.set()

    running(lambda stop: bus.consume("crashy", ["job.#"], handler, stop=stop))
    assert done.wait(WAIT)
    wait_for(lambda: bus_ns.depth(queue) == (0, 1), what="the ack")
    assert got == [{"job": "survives"}]
