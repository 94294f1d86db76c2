"""The one mapping between event records and stored documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from pymongo.database import Database

from shared.events import (
    EVENTS,
    Allowed,
    CancelInfo,
    EventRecord,
    EventRecorder,
    ExtraTarget,
    Instance,
    Kind,
    LogEntry,
    MongoEventStorage,
    Owner,
    Target,
    documents,
)
from shared.events.tests.factories import start_spec

T = datetime(2021, 5, 17, 12, 0, 0, 123000, tzinfo=UTC)


def full_record() -> EventRecord:
    return EventRecord(
        id=ObjectId(), target=Target("app", "a"), kind=Kind("permission", "app.deploy"),
        owner=Owner("user", "u@x.io"), start_time=T, end_time=T, lock_update_time=T,
        extra_targets=(ExtraTarget(Target("app", "b"), True),), start_custom_data=[{"k": 1}],
        end_custom_data={"image": "v1"}, other_custom_data=3, error="e", log="l",
        structured_log=(LogEntry(T, "m\n"),),
        cancel_info=CancelInfo("o", T, T, "r", True, True), cancelable=True, running=True,
        lock=False, allowed=Allowed("app.read.events", (("team", "t"),)),
        allowed_cancel=Allowed("app.update.events"), instance=Instance("i", "1", "2", ("h",), T),
        holder="w:1", pending_log=(LogEntry(T, "p\n"),),
    )  # fmt: skip


def test_round_trip_keeps_every_field() -> None:
    record = full_record()
    assert documents.from_doc(documents.to_doc(record)) == record


def test_documents_use_tsurus_field_names() -> None:
    doc = documents.to_doc(full_record())
    assert {"starttime", "endtime", "lockupdatetime", "startcustomdata", "structuredlog",
            "cancelinfo", "allowedcancel", "extratargets", "uniqueid"} <= set(doc)  # fmt: skip
    assert doc["kind"] == {"type": "permission", "name": "app.deploy"}
    assert doc["allowed"] == {
        "scheme": "app.read.events",
        "contexts": [{"ctxtype": "team", "value": "t"}],
    }
    assert documents.field_value(doc, "kind.name") == "app.deploy"


def test_old_or_partial_documents_still_load() -> None:
    oid = ObjectId()
    r = documents.from_doc({"_id": oid, "running": True, "lockupdatetime": T.replace(tzinfo=None),
                            "allowed": {"scheme": "x", "contexts": None}, "extratargets": None})  # fmt: skip
    assert (r.id, r.running, r.lock, r.lock_update_time) == (oid, True, True, T)
    assert r.allowed == Allowed("x") and r.extra_targets == () and r.structured_log == ()
    assert r.start_time.year == 1 and r.kind == Kind("", "")


@pytest.mark.integration
def test_a_started_event_is_stored_as_tsuru_stored_it(events_db: Database) -> None:
    storage = MongoEventStorage(events_db)
    evt = EventRecorder(storage, instance="api-1").start(start_spec())
    doc = events_db[EVENTS].find_one({"_id": evt.id})
    assert doc is not None
    assert doc["uniqueid"] == evt.id and doc["running"] is True
    assert doc["kind"] == {"type": "permission", "name": "app.update.env.set"}
    assert doc["owner"] == {"type": "user", "name": "dev@example.com"}
    assert doc["extratargets"] is None and doc["structuredlog"] is None
    assert doc["cancelinfo"]["asked"] is False and doc["instance"]["name"] == "api-1"
    evt.done()
