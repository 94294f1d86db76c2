"""The recorder's storage port: the Mongo storage and the memory fake agree."""

from __future__ import annotations

import pytest
from bson import ObjectId

from shared.events import (
    EventRecord,
    EventStorage,
    ExtraTarget,
    Instance,
    Kind,
    LogEntry,
    Owner,
    Target,
)
from shared.events.model import now
from shared.events.storage import Outcome

pytestmark = pytest.mark.integration


def record(**over: object) -> EventRecord:
    t = now()
    # Each its own target unless told: running events on one target would conflict.
    oid = ObjectId()
    fields: dict = {
        "id": oid, "target": Target("app", f"a{oid}"), "kind": Kind("permission", "app.deploy"),
        "owner": Owner("user", "u"), "start_time": t, "lock_update_time": t, "running": True,
        "holder": "h1", "cancelable": True,
    }  # fmt: skip
    fields.update(over)
    return EventRecord(**fields)


def test_a_running_event_is_its_own_lock(storage: EventStorage) -> None:
    swap = record(
        target=Target("app", "a"), extra_targets=(ExtraTarget(Target("app", "b"), lock=True),)
    )
    assert storage.insert_event(swap) is None
    assert storage.lock_holder("app(a)") == swap and storage.lock_holder("app(b)") == swap
    assert storage.lock_holder("app(zz)") is None
    # Another running event on either locked target is refused, and nothing is stored.
    refused = record(target=Target("app", "b"))
    assert storage.insert_event(refused) == "app(b)"
    assert storage.get_event(refused.id) is None
    # Events that lock nothing, or are stored finished, never conflict.
    assert storage.insert_event(record(target=Target("app", "a"), lock=False)) is None
    assert storage.insert_event(record(target=Target("app", "a"), lock=False)) is None
    assert storage.insert_event(record(target=Target("app", "a"), running=False)) is None
    assert storage.insert_event(record(target=Target("app", "c"))) is None
    # Finishing frees the locks: the next event takes them.
    assert storage.finish_event(swap.id, Outcome(now(), ""), holder="h1")
    assert storage.lock_holder("app(a)") is None and storage.lock_holder("app(b)") is None
    assert storage.insert_event(refused) is None
    assert storage.lock_holder("app(b)") == refused


def test_an_expired_event_frees_its_locks(storage: EventStorage) -> None:
    old = record(target=Target("app", "a"), lock_update_time=now().replace(year=2020))
    assert storage.insert_event(old) is None
    assert storage.finish_event(
        old.id, Outcome(now(), "expired", log=None), last_beat=old.lock_update_time
    )
    assert storage.lock_holder("app(a)") is None
    assert storage.insert_event(record(target=Target("app", "a"))) is None


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


def test_finish_stores_its_values_as_given(storage: EventStorage) -> None:
    # Values that read like field paths or operators are stored as they are, nulls too.
    r = record(pending_log=(LogEntry(now(), "kept for an adopter\n"),), other_custom_data=[1])
    storage.insert_event(r)
    entries = (LogEntry(now(), "$HOME is $$ROOT\n"),)
    data = {"v": "$running", "l": ["$literal", "$$ROOT"], "n": None}
    assert storage.finish_event(r.id, Outcome(now(), "$error", data, entries), holder="h1")
    done = storage.get_event(r.id)
    assert done is not None and not done.running and done.holder == "h1"
    assert (done.error, done.end_custom_data, done.other_custom_data) == ("$error", data, [1])
    assert done.structured_log == entries and done.pending_log == ()
    assert done.log.endswith(": $HOME is $$ROOT\n")


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
