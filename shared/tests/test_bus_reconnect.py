"""Connections that die (broker close, dead socket) are replaced; nothing is lost."""

from __future__ import annotations

import threading
from typing import Any

import pika
import pytest

from shared.bus import Bus, BusError
from shared.tests.conftest import WAIT, BusNamespace, Connections, force_close, wait_for

pytestmark = pytest.mark.integration


def start_collecting(bus: Bus, bus_ns: BusNamespace, running: Any, short: str) -> list[Any]:
    got: list[Any] = []
    running(lambda stop: bus.consume(short, ["news.#"], lambda _k, b: got.append(b), stop=stop))
    bus_ns.wait_consumers(bus_ns.queue(short))
    return got


def test_consumer_resumes_after_the_broker_closes_its_connection(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    got = start_collecting(bus, bus_ns, running, "news")
    consumer = f"{bus_ns.name}.news.consumer"
    bus.publish("news.one", {"n": 1})
    wait_for(lambda: got == [{"n": 1}], what="the first message")

    force_close(bus_connections, consumer)
    bus.publish("news.two", {"n": 2})  # may arrive while nobody consumes: it waits

    wait_for(lambda: got == [{"n": 1}, {"n": 2}], what="the message after the close")
    assert bus_connections.opened(consumer) == 2
    bus.publish("news.three", {"n": 3})
    wait_for(lambda: len(got) == 3, what="a later message")
    assert got[2] == {"n": 3}


def test_consumer_resumes_after_its_socket_dies(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    got = start_collecting(bus, bus_ns, running, "wire")
    consumer = f"{bus_ns.name}.wire.consumer"
    bus_connections.kill_socket(consumer)
    wait_for(lambda: bus_connections.opened(consumer) == 2, what="a new connection")
    bus.publish("news.one", {"n": 1})
    wait_for(lambda: got == [{"n": 1}], what="the message on the new connection")


def test_publisher_reconnects_after_the_broker_closes_its_connection(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    got = start_collecting(bus, bus_ns, running, "pub")
    publisher = f"{bus_ns.name}.publisher"
    bus.publish("news.one", {"n": 1})
    force_close(bus_connections, publisher)
    bus.publish("news.two", {"n": 2})
    wait_for(lambda: len(got) == 2, what="both messages")
    assert got == [{"n": 1}, {"n": 2}]
    assert bus_connections.opened(publisher) == 2


def test_message_in_hand_when_the_connection_dies_is_handled_again(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    queue = bus_ns.queue("slow")
    calls: list[Any] = []
    entered = threading.Event()
    release = threading.Event()

    def handler(_key: str, body: dict[str, Any]) -> None:
        calls.append(body)
        entered.set()
        assert release.wait(WAIT)

    running(lambda stop: bus.consume("slow", ["news.#"], handler, stop=stop))
    bus_ns.wait_consumers(queue)
    bus.publish("news.slow", {"n": 1})
    assert entered.wait(WAIT)
    bus_connections.kill_socket(f"{queue}.consumer")
    release.set()  # the first run ends, but its ack has nowhere to go

    wait_for(lambda: len(calls) == 2, what="the redelivery")
    wait_for(lambda: bus_ns.depth(queue) == (0, 1), what="the ack of the second run")
    assert calls == [{"n": 1}, {"n": 1}]


def test_consumer_declares_again_when_its_queue_is_deleted(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    got = start_collecting(bus, bus_ns, running, "ops")
    queue = f"{bus_ns.name}.ops"
    conn = pika.BlockingConnection(pika.URLParameters(bus_ns.amqp_url))
    try:
        conn.channel().queue_delete(queue)  # an operator's mistake
    finally:
        conn.close()

    bus_ns.wait_consumers(queue)
    bus.publish("news.after", {"n": 1})
    wait_for(lambda: got == [{"n": 1}], what="a message on the declared-again queue")


def test_consume_refuses_a_queue_declared_with_other_arguments(
    bus: Bus, bus_ns: BusNamespace
) -> None:
    # Reconnecting cannot fix a configuration error: the loop must fail, not idle.
    queue = bus_ns.queue("legacy")
    conn = pika.BlockingConnection(pika.URLParameters(bus_ns.amqp_url))
    try:
        conn.channel().queue_declare(queue, durable=True)  # no dead-letter arguments
    finally:
        conn.close()

    with pytest.raises(BusError, match="PRECONDITION_FAILED"):
        bus.consume("legacy", ["news.#"], lambda _k, _b: None, stop=threading.Event())


def test_long_handler_keeps_its_connection_alive(
    bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    # With a 1 s heartbeat the broker drops a connection silent for ~2 s; the handler
    # runs in its own thread, so the connection keeps answering heartbeats meanwhile.
    sep = "&" if "?" in bus_ns.amqp_url else "?"
    bus = Bus(bus_ns.amqp_url + sep + "heartbeat=1", bus_ns.name)
    queue = bus_ns.queue("long")
    done: list[Any] = []

    def slow(_key: str, body: dict[str, Any]) -> None:
        threading.Event().wait(5)  # a deploy-like stretch with no bus traffic
        done.append(body)

    try:
        running(lambda stop: bus.consume("long", ["news.#"], slow, stop=stop))
        bus_ns.wait_consumers(queue)
        bus.publish("news.long", {"n": 1})
        wait_for(lambda: done == [{"n": 1}], what="the slow handler")
        wait_for(lambda: bus_ns.depth(queue) == (0, 1), what="the ack")
    finally:
        bus.close()
    assert bus_connections.opened(f"{queue}.consumer") == 1


def test_on_ready_runs_after_every_connection(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    # An exclusive queue misses what was published while it was gone; on_ready lets a
    # cache (the gateway's) forget itself on each reconnection.
    ready: list[int] = []
    got: list[Any] = []
    running(
        lambda stop: bus.consume(
            "cache",
            ["news.#"],
            lambda _k, b: got.append(b),
            exclusive=True,
            stop=stop,
            on_ready=lambda: ready.append(1),
        )
    )
    queue = bus_ns.queue("cache")
    wait_for(lambda: ready == [1], what="on_ready after the first connection")
    bus_connections.kill_socket(f"{queue}.consumer")
    wait_for(lambda: len(ready) == 2, what="on_ready after the reconnection")
    bus.publish("news.after", {"n": 1})
    wait_for(lambda: got == [{"n": 1}], what="a message after the reconnection")
