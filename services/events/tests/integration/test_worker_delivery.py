"""The events worker as a real process: RabbitMQ, the database and an HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from services.events.adapters.retry import retry_queue
from services.events.domain.deliveries import DELIVERED
from services.events.domain.webhooks import Webhook, WebhookFilter
from services.events.messaging.consumers import DELIVERY_QUEUE, DISPATCH_QUEUE
from services.events.storage.mongo import INDEXES
from services.events.storage.mongo.deliveries import MongoDeliveryStore
from services.events.storage.mongo.webhooks import MongoWebhookStore
from services.events.tests.receiver import Receiver
from shared.bus import Bus
from shared.events import EVENTS, Allowed, EventRecorder, MongoEventStorage, Target
from shared.mongo import ensure_indexes
from shared.testing.events import spec

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[4]
DELAY = 0.3


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.events.worker"],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_consuming(self, amqp_url: str, namespace: str) -> None:
        """Wait until the worker declared its queues: before that, notices go nowhere."""
        import time

        for queue in (DISPATCH_QUEUE, DELIVERY_QUEUE):
            while True:
                conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
                try:
                    info = conn.channel().queue_declare(f"{namespace}.{queue}", passive=True)
                    if info.method.consumer_count:
                        break
                except pika.exceptions.ChannelClosedByBroker:
                    pass
                finally:
                    if conn.is_open:
                        conn.close()
                time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def world(mongo_url: str, amqp_url: str, tmp_path: Path) -> Iterator[tuple[Database, Bus, Worker]]:
    ns = f"test_{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "TSUBAME_NAMESPACE": ns,
        "TSUBAME_MONGO_URL": mongo_url,
        "TSUBAME_AMQP_URL": amqp_url,
        "TSUBAME_IDENTITY_SECRET": "worker-test-secret-0123456789",
        "TSUBAME_EVENTS_WEBHOOK_RETRY_DELAYS": ",".join([str(DELAY)] * 4),
        "TSUBAME_EVENTS_CLEANER_INTERVAL": "0.5",
        "TSUBAME_EVENTS_SWEEP_DELAY": "1",
        "TSUBAME_EVENTS_LOCK_EXPIRY": "2",
    }
    client: MongoClient = MongoClient(mongo_url, tz_aware=True)
    db = client[f"{ns}_events"]
    ensure_indexes(db, INDEXES)
    MongoEventStorage(db).ensure_indexes()
    bus = Bus(amqp_url, ns)
    worker = Worker(env, tmp_path / "worker.log")
    worker.ready = lambda: worker.wait_consuming(amqp_url, ns)  # type: ignore[attr-defined]
    try:
        yield db, bus, worker
    finally:
        worker.stop()
        bus.close()
        client.drop_database(db.name)
        client.close()
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        ch = conn.channel()
        for q in (DISPATCH_QUEUE, DELIVERY_QUEUE):
            ch.queue_delete(f"{ns}.{q}")
            ch.queue_delete(f"{ns}.{q}.dead")
        ch.queue_delete(retry_queue(ns, DELAY))
        ch.exchange_delete(f"{ns}.domain")
        conn.close()


def finish_event(db: Database, bus: Bus | None, team: str = "t1") -> str:
    recorder = EventRecorder(
        MongoEventStorage(db), publish=bus.publish if bus else None, instance="test"
    )
    with recorder.record(spec(
        target=Target("app", "myapp"), kind="app.update.env.set", owner=("user", "dev@example.com"),
        allowed=Allowed("app.read.events", (("team", team), ("app", "myapp"))),
        custom_data=[{"name": ":app", "value": "myapp"}],
    )) as evt:  # fmt: skip
        evt.log("setting\n")
    recorder.close()
    return evt.unique_id


def test_retries_until_the_receiver_accepts_exactly_once(world: tuple) -> None:
    db, bus, worker = world
    with Receiver(script=[500, 500, 200]) as receiver:
        hooks = MongoWebhookStore(db)
        hooks.create(Webhook(name="hook", url=receiver.url + "/in?x=1", team_owner="t1", secret="k",
                             headers={"X-Ahoy": ("Errrr",)}))  # fmt: skip
        hooks.create(Webhook(name="other-team", url=receiver.url + "/other", team_owner="t2"))
        hooks.create(Webhook(name="pools-only", url=receiver.url + "/pools", team_owner="t1",
                             event_filter=WebhookFilter(target_types=("pool",))))  # fmt: skip
        worker.start()
        worker.ready()
        event_id = finish_event(db, bus)
        got = receiver.wait_for(3)
        assert [r.answered for r in got] == [500, 500, 200]
        assert {r.path for r in got} == {"/in?x=1"}
        final = got[-1]
        assert final.method == "POST"
        assert final.headers["Content-Type"] == "application/json"
        assert final.headers["User-Agent"] == "tsuru-webhook-client/1.0"
        assert final.headers["X-Ahoy"] == "Errrr"
        assert final.headers["X-Tsubame-Event-Id"] == event_id
        mac = hmac.new(b"k", final.body, hashlib.sha256).hexdigest()
        assert final.headers["X-Tsubame-Signature"] == f"sha256={mac}"
        body = json.loads(final.body)
        assert body["UniqueID"] == event_id and body["Kind"]["Name"] == "app.update.env.set"
        assert body["Log"].endswith(": setting\n") and body["Running"] is False
        delivery = _wait_status(db, event_id, "hook", DELIVERED)
        assert (delivery.attempts, delivery.last_status) == (3, 200)
        assert MongoDeliveryStore(db).get(event_id, "other-team") is None
        assert MongoDeliveryStore(db).get(event_id, "pools-only") is None
        assert (
            db[EVENTS].find_one({"_id": __import__("bson").ObjectId(event_id)})["running"] is False
        )


def _wait_status(db: Database, event_id: str, hook: str, status: str) -> object:
    import time

    store = MongoDeliveryStore(db)
    while True:  # bounded by the test timeout; this only waits, it asserts no duration
        found = store.get(event_id, hook)
        if found is not None and found.status == status:
            return found
        time.sleep(0.05)


def test_worker_killed_mid_delivery_redelivers_after_restart(world: tuple) -> None:
    db, bus, worker = world
    with Receiver(hold_first=True) as receiver:
        MongoWebhookStore(db).create(
            Webhook(name="hook", url=receiver.url + "/in", team_owner="t1", secret="k")
        )
        worker.start()
        worker.ready()
        event_id = finish_event(db, bus)
        receiver.held.wait(timeout=120)
        assert receiver.held.is_set()
        worker.kill()  # dies with the delivery message unacked
        receiver.release()
        worker.start()
        worker.ready()
        got = receiver.wait_for(2)
        assert [r.headers["X-Tsubame-Event-Id"] for r in got] == [event_id, event_id]
        assert [r.answered for r in got] == [0, 200]
        delivery = _wait_status(db, event_id, "hook", DELIVERED)
        assert delivery.last_status == 200


def test_event_whose_notice_was_lost_is_delivered_by_the_sweep(world: tuple) -> None:
    db, _bus, worker = world
    with Receiver() as receiver:
        MongoWebhookStore(db).create(
            Webhook(name="hook", url=receiver.url, team_owner="t1", secret="k")
        )
        worker.start()
        worker.ready()
        event_id = finish_event(db, None)  # finished, but no notice ever published
        [got] = receiver.wait_for(1)
    assert got.headers["X-Tsubame-Event-Id"] == event_id
    assert _wait_status(db, event_id, "hook", DELIVERED).last_status == 200
    assert MongoDeliveryStore(db).dispatched([event_id]) == {event_id}


def test_worker_expires_dead_events_and_their_webhooks_fire(world: tuple) -> None:
    db, bus, worker = world
    with Receiver() as receiver:
        MongoWebhookStore(db).create(
            Webhook(name="hook", url=receiver.url, team_owner="t1", secret="k")
        )
        dead_recorder = EventRecorder(MongoEventStorage(db), publish=bus.publish, instance="dead")
        dead = dead_recorder.start(spec(
            target=Target("app", "ghost"), kind="app.deploy", owner=("user", "dev@example.com"),
            allowed=Allowed("app.read.events", (("team", "t1"),)),
        ))  # fmt: skip
        dead_recorder.close()  # its process "dies": no more heartbeats
        worker.start()
        worker.ready()
        [got] = receiver.wait_for(1)
    body = json.loads(got.body)
    assert body["UniqueID"] == dead.unique_id
    assert body["Running"] is False
    assert body["Error"].startswith("event expired, no update for ")
    assert db[EVENTS].count_documents({"running": True, "lockkeys": "app(ghost)"}) == 0
