"""One contract suite per storage port, run against Mongo and the in-memory fake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from services.events.domain.deliveries import DELIVERED, PENDING, Delivery
from services.events.domain.errors import WebhookExists
from services.events.domain.filters import EventFilter, Visibility
from services.events.storage import memory
from services.events.storage.mongo import INDEXES
from services.events.storage.mongo.blocks import MongoBlockStore
from services.events.storage.mongo.deliveries import MongoDeliveryStore
from services.events.storage.mongo.events import MongoEventStore
from services.events.storage.mongo.webhooks import MongoWebhookStore
from services.events.tests.unit.factories import T0, event_doc, webhook
from shared.events import EVENTS, Block, Kind, MongoEventStorage, Target, documents
from shared.events.storage import KINDS
from shared.identity import Grant
from shared.mongo import ensure_indexes

pytestmark = pytest.mark.integration

EVERYONE = Visibility.of([Grant("")])


def _parse(**args: str) -> EventFilter:
    return EventFilter.parse({k: [v] for k, v in args.items()})


def test_events_filters_sort_and_paging(event_store: tuple[Any, Callable]) -> None:
    store, insert = event_store
    docs = [
        event_doc(
            starttime=T0 + timedelta(seconds=i), kind={"type": "permission", "name": f"k{i % 3}"}
        )
        for i in range(7)
    ]
    docs[2]["error"] = "boom"
    docs[3]["running"] = True
    docs[4]["extratargets"] = [{"target": {"type": "pool", "value": "p1"}, "lock": False}]
    docs[5]["owner"] = {"type": "token", "name": "tok"}
    for d in docs:
        insert(d)
    ids = lambda found: [r.id for r in found]  # noqa: E731
    assert ids(store.find(_parse(), EVERYONE)) == [d["_id"] for d in reversed(docs)]
    assert ids(store.find(_parse(sort="starttime"), EVERYONE)) == [d["_id"] for d in docs]
    assert ids(store.find(_parse(limit="2", skip="1"), EVERYONE)) == [
        docs[5]["_id"],
        docs[4]["_id"],
    ]
    assert ids(store.find(_parse(kindname="k1"), EVERYONE)) == [docs[4]["_id"], docs[1]["_id"]]
    assert ids(store.find(_parse(erroronly="true"), EVERYONE)) == [docs[2]["_id"]]
    assert ids(store.find(_parse(running="true"), EVERYONE)) == [docs[3]["_id"]]
    assert len(store.find(_parse(running="false"), EVERYONE)) == 6
    assert ids(store.find(_parse(**{"target.type": "pool"}), EVERYONE)) == [docs[4]["_id"]]
    assert ids(store.find(_parse(**{"target.value": "p1"}), EVERYONE)) == [docs[4]["_id"]]
    assert ids(store.find(_parse(ownertype="token"), EVERYONE)) == [docs[5]["_id"]]
    assert ids(store.find(_parse(ownername="tok"), EVERYONE)) == [docs[5]["_id"]]
    since = (T0 + timedelta(seconds=5)).isoformat()
    assert ids(store.find(_parse(since=since), EVERYONE)) == [docs[6]["_id"], docs[5]["_id"]]
    assert ids(store.find(_parse(until=T0.isoformat()), EVERYONE)) == [docs[0]["_id"]]
    assert ids(store.find(_parse(sort="-kind.name", limit="1"), EVERYONE)) == [docs[5]["_id"]]


def test_events_visibility(event_store: tuple[Any, Callable]) -> None:
    store, insert = event_store
    mine = event_doc()
    other = event_doc(
        allowed={"scheme": "app.read.events", "contexts": [{"ctxtype": "team", "value": "x"}]}
    )
    glob = event_doc(allowed={"scheme": "cluster.read.events", "contexts": []})
    me = event_doc(
        allowed={"scheme": "user.read.events", "contexts": [{"ctxtype": "user", "value": "me@x"}]}
    )
    for d in (mine, other, glob, me):
        insert(d)
    team = Visibility.of([Grant("app.read", "team", "myteam"), Grant("user", "user", "me@x")])
    assert {r.id for r in store.find(_parse(), team)} == {mine["_id"], me["_id"]}
    clusters = Visibility.of([Grant("cluster", "global")])
    assert [r.id for r in store.find(_parse(), clusters)] == [glob["_id"]]
    assert store.find(_parse(), Visibility.of([])) == []
    assert store.find(_parse(skip=str(2**63 - 1)), EVERYONE) == []
    assert len(store.find(_parse(), EVERYONE)) == 4


def test_events_get_kinds_and_cancel(event_store: tuple[Any, Callable]) -> None:
    store, insert = event_store
    running = event_doc(
        running=True, cancelable=True, kind={"type": "permission", "name": "app.deploy"}
    )
    done = event_doc(kind={"type": "internal", "name": "healer"})
    insert(running)
    insert(done)
    assert store.get(running["_id"]).kind.name == "app.deploy"
    assert store.get(ObjectId()) is None
    assert store.kinds() == [Kind("internal", "healer"), Kind("permission", "app.deploy")]
    assert store.request_cancel(running["_id"], owner="me", reason="r", when=T0) is True
    assert store.request_cancel(running["_id"], owner="me", reason="r", when=T0) is False
    assert store.request_cancel(done["_id"], owner="me", reason="r", when=T0) is False
    info = store.get(running["_id"]).cancel_info
    assert (info.owner, info.reason, info.asked, info.canceled) == (
        "me",
        "r",
        True,
        False,
    )


@pytest.fixture
def block_store(kind: str, request: pytest.FixtureRequest) -> Any:
    if kind == "memory":
        return memory.MemoryBlockStore()
    return MongoBlockStore(request.getfixturevalue("events_db"))


def test_blocks(block_store: Any) -> None:
    old = Block(id=ObjectId(), start_time=T0, reason="old", kind_name="app")
    new = Block(id=ObjectId(), start_time=T0 + timedelta(seconds=1), reason="new",
                target=Target("app", "a"), conditions={"pool": "p"})  # fmt: skip
    block_store.add(old)
    block_store.add(new)
    assert [b.reason for b in block_store.list(None)] == ["new", "old"]
    assert block_store.list(True) == [new, old]
    assert block_store.deactivate(old.id, T0 + timedelta(seconds=9)) is True
    assert block_store.deactivate(old.id, T0) is False
    assert block_store.deactivate(ObjectId(), T0) is False
    [ended] = block_store.list(False)
    assert ended.id == old.id and not ended.active and ended.end_time == T0 + timedelta(seconds=9)
    assert [b.reason for b in block_store.list(True)] == ["new"]


@pytest.fixture
def webhook_store(kind: str, request: pytest.FixtureRequest) -> Any:
    if kind == "memory":
        return memory.MemoryWebhookStore()
    db = request.getfixturevalue("events_db")
    ensure_indexes(db, INDEXES)
    return MongoWebhookStore(db)


def test_webhooks(webhook_store: Any) -> None:
    a = webhook(name="a", team_owner="t1", headers={"X-A": ("1", "2")}, secret="s")
    b = webhook(name="b", team_owner="t2")
    webhook_store.create(b)
    webhook_store.create(a)
    with pytest.raises(WebhookExists):
        webhook_store.create(webhook(name="a"))
    assert webhook_store.get("a") == a
    assert webhook_store.get("zz") is None
    assert [h.name for h in webhook_store.list()] == ["a", "b"]
    assert [h.name for h in webhook_store.list(["t2"])] == ["b"]
    assert webhook_store.list([]) == []
    assert webhook_store.replace(webhook(name="a", team_owner="t2")) is True
    assert webhook_store.get("a").team_owner == "t2"
    assert webhook_store.replace(webhook(name="zz")) is False
    assert webhook_store.delete("a") is True
    assert webhook_store.delete("a") is False


@pytest.fixture
def delivery_store(kind: str, request: pytest.FixtureRequest) -> Any:
    if kind == "memory":
        return memory.MemoryDeliveryStore()
    return MongoDeliveryStore(request.getfixturevalue("events_db"))


def test_deliveries(delivery_store: Any) -> None:
    first = Delivery(event_id="e1", webhook="w", status=PENDING, updated=T0)
    delivery_store.save(first)
    delivery_store.save(Delivery(event_id="e2", webhook="w"))
    assert delivery_store.get("e1", "w") == first
    done = Delivery(
        event_id="e1", webhook="w", status=DELIVERED, attempts=2, last_status=200, updated=T0
    )
    delivery_store.save(done)
    assert delivery_store.for_event("e1") == [done]
    assert delivery_store.get("e1", "x") is None
    assert delivery_store.add(Delivery(event_id="e1", webhook="w")) is False
    assert delivery_store.get("e1", "w") == done
    assert delivery_store.add(Delivery(event_id="e3", webhook="w")) is True
    assert delivery_store.dispatched(["e1", "e2"]) == set()
    delivery_store.mark_dispatched("e1", T0)
    delivery_store.mark_dispatched("e1", T0)
    assert delivery_store.dispatched(["e1", "e2"]) == {"e1"}
    assert delivery_store.dispatched([]) == set()
    later = T0 + timedelta(seconds=100)
    delivery_store.mark_dispatched("e4", later)
    delivery_store.mark_dispatched("e5", T0)
    assert delivery_store.dispatched_between(T0, T0) == {"e1", "e5"}
    assert delivery_store.dispatched_between(T0, later) == {"e1", "e4", "e5"}
    delivery_store.forget_dispatched_before(T0 + timedelta(seconds=1))
    assert delivery_store.dispatched(["e1", "e4", "e5"]) == {"e4"}


def test_events_finished_between(event_store: tuple[Any, Callable]) -> None:
    store, insert = event_store
    done = event_doc(endtime=T0 + timedelta(seconds=10))
    early = event_doc(endtime=T0)
    running = event_doc(running=True, endtime=T0 + timedelta(seconds=10))
    for d in (done, early, running):
        insert(d)
    pages = store.finished_between(
        T0 + timedelta(seconds=5), T0 + timedelta(seconds=15), page_size=10
    )
    found = [h for page in pages for h in page]
    assert [h.id for h in found] == [str(done["_id"])]
    assert found[0].kind == (done["kind"]["type"], done["kind"]["name"])
    assert found[0].target == (done["target"]["type"], done["target"]["value"])
    assert found[0].contexts == (("team", "myteam"), ("app", "myapp"))


def test_events_finished_between_in_pages(event_store: tuple[Any, Callable]) -> None:
    store, insert = event_store
    docs = [event_doc(endtime=T0 + timedelta(seconds=i % 7)) for i in range(25)]
    for doc in docs:
        insert(doc)
    pages = list(store.finished_between(T0, T0 + timedelta(seconds=10), page_size=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sorted(h.id for p in pages for h in p) == sorted(str(doc["_id"]) for doc in docs)


def test_event_kinds_are_kept_as_recorded(events_db: Database) -> None:
    """The kinds are read from their own collection: filled once from the events
    recorded before it existed, then by the recorder the first time it records one."""
    before = event_doc(kind={"type": "permission", "name": "app.create"})
    events_db[EVENTS].insert_one(before)  # recorded by a version that kept no kinds
    store = MongoEventStore(events_db)
    assert store.kinds() == [Kind("permission", "app.create")]  # not filled yet: distinct
    storage = MongoEventStorage(events_db)
    storage.ensure_indexes()
    storage.ensure_indexes()  # a second start-up does not read the events again
    for name in ("team.update", "team.update", "app.create"):
        record = documents.from_doc(event_doc(kind={"type": "permission", "name": name}))
        assert storage.insert_event(replace(record, running=False)) is None
    assert store.kinds() == [Kind("permission", "app.create"), Kind("permission", "team.update")]
    assert events_db[KINDS].count_documents({}) == 3  # two kinds and the mark
    events_db[EVENTS].delete_many({})
    assert len(store.kinds()) == 2  # read from the kinds kept, not from the events
