"""The recorder's storage port: the Mongo storage and the memory fake agree."""

from __future__ import annotations

from dataclasses import replace

import pytest
from bson import ObjectId

from shared.events import EventRecord, EventStorage, Instance, Kind, LogEntry, Owner, Target
from shared.events.model import now
from shared.events.storage import Lock, Outcome

pytestmark = pytest.mark.integration


def record(**over: object) -> EventRecord:
    t = now()
    fields: dict = {
        "id": ObjectId(), "target": Target("app", "a"), "kind": Kind("permission", "app.deploy"),
        "owner": Owner("user", "u"), "start_time": t, "lock_update_time": t, "running": True,
        "holder": "h1", "cancelable": True,
    }  # fmt: skip
    fields.update(over)
    return EventRecord(**fields)


def lock(event: ObjectId, lock_id: str = "app(a)", **over: object) -> Lock:
    t = now()
    fields: dict = {"id": lock_id, "event": event, "target": Target("app", "a"),
                    "kind": "app.deploy", "owner": Owner("user", "u"), "start_time": t, "updated": t}  # fmt: skip
    fields.update(over)
    return Lock(**fields)


def test_locks(storage: EventStorage) -> None:
    e1, e2 = ObjectId(), ObjectId()
    first = lock(e1)
    assert storage.insert_lock(first) and not storage.insert_lock(lock(e2))
    assert storage.get_lock("app(a)") == first
    assert storage.get_lock("app(zz)") is None
    assert not storage.take_over_lock(replace(first, updated=now().replace(year=2000)), lock(e2))
    assert storage.take_over_lock(first, lock(e2))
    assert storage.get_lock("app(a)").event == e2  # type: ignore[union-attr]
    storage.insert_lock(lock(e2, "app(b)"))
    storage.delete_locks(e2, ["app(b)"])
    assert storage.get_lock("app(b)") is None and storage.get_lock("app(a)") is not None
    later = now()
    storage.refresh_locks([e2], later)
    assert storage.get_lock("app(a)").updated == later  # type: ignore[union-attr]
    assert storage.delete_locks_older_than(later) == 0
    storage.delete_locks(e2)
    assert storage.get_lock("app(a)") is None


def test_finish_is_guarded_by_holder_and_beat(storage: EventStorage) -> None:
    r = record()
    storage.insert_event(r)
    entries = (LogEntry(now(), "x\n"),)
    assert not storage.finish_event(r.id, Outcome(now(), "e", None, entries), holder="h2")
    assert not storage.finish_event(
        r.id, Outcome(now(), "e", log=None), last_beat=now().replace(year=2000)
    )
    assert storage.finish_event(r.id, Outcome(now(), "", {"i": 1}, entries), holder="h1")
    done = storage.get_event(r.id)
    assert done is not None and not done.running and done.end_custom_data == {"i": 1}
    assert done.log.endswith(": x\n") and done.structured_log == entries
    assert not storage.finish_event(r.id, Outcome(now(), "again"))


def test_expiry_keeps_what_was_stored(storage: EventStorage) -> None:
    r = record(other_custom_data=5)
    storage.insert_event(r)
    assert storage.finish_event(
        r.id, Outcome(now(), "expired", log=None), last_beat=r.lock_update_time
    )
    done = storage.get_event(r.id)
    assert done is not None and (done.error, done.other_custom_data, done.log) == ("expired", 5, "")


def test_beat_adopt_and_holder_guarded_writes(storage: EventStorage) -> None:
    mine, other = record(), record(holder="h2")
    storage.insert_event(mine)
    storage.insert_event(other)
    later = now()
    assert storage.beat([mine.id, other.id], "h1", later) == {mine.id}
    assert storage.get_event(mine.id).lock_update_time == later  # type: ignore[union-attr]
    entries = [LogEntry(later, "so far\n")]
    assert storage.stash_log(mine.id, "h1", entries)
    adopted = storage.adopt(mine.id, "h3", Instance("worker"), later)
    assert adopted is not None and adopted.holder == "h3" and adopted.pending_log == tuple(entries)
    assert adopted.instance.name == "worker"
    assert not storage.set_other_data(mine.id, "h1", 1)
    assert storage.set_other_data(mine.id, "h3", 1)
    assert storage.adopt(ObjectId(), "h3", Instance(), later) is None


def test_cancel_request_and_acknowledgement(storage: EventStorage) -> None:
    r, plain = record(), record(cancelable=False)
    storage.insert_event(r)
    storage.insert_event(plain)
    assert not storage.ack_cancel(r.id, "h1", now())  # nothing asked
    assert not storage.request_cancel(plain.id, owner="o", reason="r", when=now())
    assert storage.request_cancel(r.id, owner="o", reason="r", when=now())
    assert not storage.request_cancel(r.id, owner="o", reason="r", when=now())
    assert not storage.ack_cancel(r.id, "h2", now())
    assert storage.ack_cancel(r.id, "h1", now())
    info = storage.cancel_info(r.id)
    assert info is not None and info.asked and info.canceled and info.owner == "o"
    assert storage.cancel_info(ObjectId()) is None


def test_stale_events(storage: EventStorage) -> None:
    old = record(lock_update_time=now().replace(year=2020))
    fresh = record()
    storage.insert_event(old)
    storage.insert_event(fresh)
    storage.insert_event(record(running=False, lock_update_time=now().replace(year=2020)))
    assert [i for i, _ in storage.stale_events(now().replace(year=2021))] == [old.id]
