"""The catalog worker's reactions over the real broker: units added and removed later
are bound and unbound, and a removed app is unbound from every instance."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pika
import pytest

from services.catalog.messaging.consumers import APP_REMOVED_QUEUE, UNITS_QUEUE, consumers
from services.catalog.tests.integration.conftest import World
from services.catalog.tests.unit.conftest import ADMIN
from shared.bus import Bus, keys
from shared.settings import Settings
from shared.worker import run_worker

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(world: World, amqp_url: str, namespace: str) -> Iterator[Bus]:
    settings = Settings("/nonexistent", namespace, "", amqp_url, b"x" * 32)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=("catalog", consumers(world.deps), settings), kwargs={"stop": stop}
    )
    thread.start()
    _wait_consuming(amqp_url, namespace)
    bus = Bus(amqp_url, namespace)
    try:
        yield bus
    finally:
        bus.close()
        stop.set()
        thread.join(30)


def _wait_consuming(amqp_url: str, namespace: str) -> None:
    for queue in (APP_REMOVED_QUEUE, UNITS_QUEUE):
        for _ in range(300):
            conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
            try:
                if (
                    conn.channel()
                    .queue_declare(f"{namespace}.{queue}", passive=True)
                    .method.consumer_count
                ):
                    break
            except pika.exceptions.ChannelClosedByBroker:
                pass
            finally:
                if conn.is_open:
                    conn.close()
            time.sleep(0.1)


def _until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def _bound_units(world: World) -> list[str]:
    inst = world.deps.stores.instances.get("mysql", "db1")
    assert inst is not None
    return sorted(u.id for u in inst.bound_units)


def test_units_changed_and_app_removed(world: World, worker: Bus) -> None:
    client = world.app.test_client()
    data = {"id": "mysql", "password": "p", "team": "blue", "endpoint": world.api.url}
    assert client.post("/services", data=data, headers=ADMIN).status_code == 201
    client.post("/services/mysql/instances", data={"name": "db1", "owner": "blue"}, headers=ADMIN)
    world.apps.add_app("shop", teams=["blue"], pool="p1", units=[("u1", "10.0.0.1")])
    resp = client.put("/services/mysql/instances/db1/shop?noRestart=true", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert _bound_units(world) == ["u1"]

    world.apps.set_units("shop", [("u1", "10.0.0.1"), ("u2", "10.0.0.2")])
    worker.publish(keys.UNITS_CHANGED, {"app": "shop", "added": [{"id": "u2", "ip": "10.0.0.2"}],
                                        "removed": []})  # fmt: skip
    _until(lambda: _bound_units(world) == ["u1", "u2"], "u2 bound")
    worker.publish(keys.UNITS_CHANGED, {"app": "shop", "added": [],
                                        "removed": [{"id": "u1", "ip": "10.0.0.1"}]})  # fmt: skip
    _until(lambda: _bound_units(world) == ["u2"], "u1 unbound")
    # The broker's call may be recorded a moment after the instance's document changed.
    _until(
        lambda: (
            [r.field("unit-host") for r in world.api.calls("DELETE", "/resources/db1/bind")]
            == [["10.0.0.1"]]
        ),
        "u1 unbound at the broker",
    )

    world.apps.remove_app("shop")
    worker.publish(keys.APP_REMOVED, {"app": "shop"})
    _until(lambda: world.deps.stores.instances.get("mysql", "db1").apps == [], "shop unbound")  # type: ignore[union-attr]
    assert _bound_units(world) == []
    unbind = world.api.calls("DELETE", "/resources/db1/bind-app")[-1]
    assert unbind.field("app-name") == ["shop"]
