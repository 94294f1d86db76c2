"""Publishing and consuming domain messages on the real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import pika
import pytest

from shared.bus import Bus, BusError
from shared.tests.conftest import BusNamespace, Connections, force_close, wait_for

pytestmark = pytest.mark.integration

Received = list[tuple[str, dict[str, Any]]]


def collector() -> tuple[Received, Any]:
    got: Received = []
    lock = threading.Lock()

    def handler(key: str, body: dict[str, Any]) -> None:
        with lock:
            got.append((key, body))

    return got, handler


def test_round_trip_delivers_only_bound_keys(bus: Bus, bus_ns: BusNamespace, running: Any) -> None:
    queue = bus_ns.queue("gateway-cache")
    got, handler = collector()
    running(
        lambda stop: bus.consume(
            "gateway-cache", ["auth.token.revoked", "apps.#"], handler, stop=stop
        )
    )
    bus_ns.wait_consumers(queue)

    # The same key in another namespace must not reach us.
    other = BusNamespace(bus_ns.name + "_other", bus_ns.amqp_url)
    other_bus = other.bus()
    try:
        other_bus.publish("auth.token.revoked", {"token_hash": "other-stack"})
    finally:
        other_bus.close()
        other.cleanup()

    bus.publish("auth.token.revoked", {"token_hash": "abc"})
    bus.publish("auth.team.removed", {"team": "not-bound"})
    bus.publish("apps.app.removed", {"app": "myapp"})
    bus.publish("apps.unit.status.changed", {"sentinel": True})
    # Delivery on one queue is ordered: once the last one is in, any stray one would be too.
    wait_for(lambda: len(got) >= 3, what="three messages")

    assert got == [
        ("auth.token.revoked", {"token_hash": "abc"}),
        ("apps.app.removed", {"app": "myapp"}),
        ("apps.unit.status.changed", {"sentinel": True}),
    ]
    assert bus_ns.depth(queue) == (0, 1)


def test_durable_queue_keeps_messages_while_no_consumer_runs(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.queue("apps.team-removed")
    first, handler = collector()
    loop = running(
        lambda stop: bus.consume("apps.team-removed", ["auth.team.removed"], handler, stop=stop)
    )
    bus_ns.wait_consumers(queue)
    loop.stop()
    assert bus_ns.depth(queue) == (0, 0)

    for team in ("a", "b", "c"):
        bus.publish("auth.team.removed", {"team": team})
    assert bus_ns.depth(queue) == (3, 0)  # confirmed publishes are already queued

    # A fresh process (a new Bus) picks them up in order.
    later, handler2 = collector()
    restarted = bus_ns.bus()
    try:
        running(
            lambda stop: restarted.consume(
                "apps.team-removed", ["auth.team.removed"], handler2, stop=stop
            )
        )
        wait_for(lambda: len(later) == 3, what="the three queued messages")
    finally:
        restarted.close()
    assert first == []
    assert [body["team"] for _key, body in later] == ["a", "b", "c"]


def test_notices_are_delivered_beside_confirmed_messages_and_survive_a_dropped_connection(
    bus: Bus, bus_ns: BusNamespace, running: Any, bus_connections: Connections
) -> None:
    queue = bus_ns.queue("events.finished")
    got, handler = collector()
    running(lambda stop: bus.consume("events.finished", ["events.#"], handler, stop=stop))
    bus_ns.wait_consumers(queue)
    bus.notify("events.event.finished", {"id": "1"})
    bus.publish("events.event.finished", {"id": "2"})  # the same connection, confirmed
    bus.notify("events.event.finished", {"id": "3"})
    wait_for(lambda: len(got) == 3, what="the three messages")
    # Two channels: no order between them (nobody needs one for notices).
    assert sorted(body["id"] for _key, body in got) == ["1", "2", "3"]
    # A connection the broker dropped: a notice then may be lost (the sweep repairs
    # that), never raised to the caller for good; a later one goes on a new connection.
    force_close(bus_connections, f"{bus_ns.name}.publisher")

    def notice_arrived() -> bool:
        try:
            bus.notify("events.event.finished", {"id": "4"})
        except BusError:
            return False
        return ("events.event.finished", {"id": "4"}) in got

    wait_for(notice_arrived, what="a notice on a new connection")
    assert bus_connections.opened(f"{bus_ns.name}.publisher") == 2


def test_exclusive_queue_disappears_with_its_consumer(
    bus: Bus, bus_ns: BusNamespace, running: Any
) -> None:
    queue = bus_ns.queue("gateway-1")
    got, handler = collector()
    loop = running(
        lambda stop: bus.consume("gateway-1", ["auth.#"], handler, exclusive=True, stop=stop)
    )
    wait_for(lambda: bus_ns.held_exclusively(queue), what="the exclusive queue")
    bus.publish("auth.identity.changed", {})
    wait_for(lambda: got == [("auth.identity.changed", {})], what="the message")
    loop.stop()
    wait_for(lambda: bus_ns.depth(queue) is None, what="the exclusive queue to go")


def test_publisher_confirms_turn_a_broker_nack_into_bus_error(
    bus: Bus, bus_ns: BusNamespace
) -> None:
    # A queue that holds one message and rejects further publishes: the broker answers
    # them with basic.nack, which only a confirming publisher ever sees.
    queue = bus_ns.queue("full")
    conn = pika.BlockingConnection(pika.URLParameters(bus_ns.amqp_url))
    try:
        ch = conn.channel()
        ch.exchange_declare(bus.exchange, exchange_type="topic", durable=True)
        ch.queue_declare(queue, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
        ch.queue_bind(queue, bus.exchange, routing_key="full.#")
    finally:
        conn.close()

    bus.publish("full.one", {"n": 1})
    with pytest.raises(BusError, match="refused"):
        bus.publish("full.two", {"n": 2})
    assert bus_ns.get(queue) == {"n": 1}
    # The Bus stays usable after a nack.
    bus.publish("full.three", {"n": 3})
    assert bus_ns.get(queue) == {"n": 3}


def test_bus_does_no_io_until_used_and_gives_up_with_bus_error() -> None:
    bus = Bus("amqp://guest:guest@127.0.0.1:1/%2F", "nowhere")  # nothing listens on port 1
    with pytest.raises(BusError, match="cannot publish"):
        bus.publish("auth.team.removed", {"team": "t"})
    bus.close()


def test_publish_is_thread_safe(bus: Bus, bus_ns: BusNamespace, running: Any) -> None:
    queue = bus_ns.queue("many")
    got, handler = collector()
    running(lambda stop: bus.consume("many", ["load.#"], handler, stop=stop))
    bus_ns.wait_consumers(queue)

    def publish_batch(worker: int) -> None:
        for i in range(25):
            bus.publish(f"load.{worker}", {"worker": worker, "i": i})

    threads = [threading.Thread(target=publish_batch, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: len(got) == 200, what="200 messages")
    assert sorted((b["worker"], b["i"]) for _k, b in got) == [
        (w, i) for w in range(8) for i in range(25)
    ]


GEVENT_PUBLISHER = """
from gevent import monkey; monkey.patch_all()
import sys, gevent
from shared.bus import Bus
bus = Bus(sys.argv[1], sys.argv[2])
def batch(g):
    for i in range(10):
        bus.publish("gevent.%d" % g, {"g": g, "i": i})
gevent.joinall([gevent.spawn(batch, g) for g in range(5)], raise_error=True)
bus.close()
"""


def test_publish_works_under_gevent_monkey_patching(bus_ns: BusNamespace) -> None:
    # Web processes run gunicorn gevent workers; greenlets share one Bus there.
    queue = bus_ns.queue("gevent")
    conn = pika.BlockingConnection(pika.URLParameters(bus_ns.amqp_url))
    try:
        ch = conn.channel()
        exchange = f"{bus_ns.name}.domain"
        ch.exchange_declare(exchange, exchange_type="topic", durable=True)
        ch.queue_declare(queue, durable=True)
        ch.queue_bind(queue, exchange, routing_key="gevent.#")
    finally:
        conn.close()

    subprocess.run(
        [sys.executable, "-c", GEVENT_PUBLISHER, bus_ns.amqp_url, bus_ns.name],
        check=True,
        timeout=60,
        cwd=os.getcwd(),
    )
    assert bus_ns.depth(queue) == (50, 0)
