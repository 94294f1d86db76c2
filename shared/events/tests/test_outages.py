"""What the recorder owes the database after an outage, and what it bounds."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from shared.events import EventRecorder, Target
from shared.events.bounds import LOG_TRUNCATED, MAX_CUSTOM_DATA, MAX_LOG
from shared.events.storage import Outcome
from shared.events.tests.factories import start_spec
from shared.testing.events import MemoryEventStorage


class Flaky(MemoryEventStorage):
    """Memory storage whose writes fail like a lost database while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()

    def _check(self, what: str) -> None:
        if what in self.down:
            raise AutoReconnect("connection refused")

    def insert_event(self, record: Any) -> str | None:
        self._check("insert_event")
        return super().insert_event(record)

    def active_blocks(self) -> Any:
        self._check("active_blocks")
        return super().active_blocks()

    def finish_event(
        self,
        event_id: ObjectId,
        outcome: Outcome,
        *,
        holder: str | None = None,
        last_beat: datetime | None = None,
    ) -> bool:
        self._check("finish_event")
        return super().finish_event(event_id, outcome, holder=holder, last_beat=last_beat)

    def stash_log(self, event_id: ObjectId, holder: str, entries: Any) -> bool:
        self._check("stash_log")
        return super().stash_log(event_id, holder, entries)


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_finish_refused_during_an_outage_is_retried_by_the_heartbeat() -> None:
    storage = Flaky()
    recorder = EventRecorder(storage, heartbeat=0.05)
    evt = recorder.start(start_spec(target=Target("pool", "p")))
    storage.down.add("finish_event")
    with pytest.raises(AutoReconnect):
        evt.done(error="boom")
    assert storage.lock_holder("pool(p)") is not None  # still held: the write is owed
    storage.down.clear()
    wait_until(lambda: storage.lock_holder("pool(p)") is None)
    record = storage.get_event(evt.id)
    assert record is not None and not record.running and record.error == "boom"
    recorder.close()


def test_a_start_cut_by_an_outage_gives_its_locks_back_before_the_next_one() -> None:
    storage = Flaky()
    recorder = EventRecorder(storage, heartbeat=0)  # no heartbeat: the next start flushes
    storage.down.add("active_blocks")  # the event (its lock) is stored, then the outage
    with pytest.raises(AutoReconnect):
        recorder.start(start_spec(target=Target("pool", "p")))
    held = storage.lock_holder("pool(p)")
    assert held is not None
    storage.down.clear()
    recorder.start(start_spec(target=Target("pool", "p"))).done()  # not locked out
    assert storage.held_locks() == {}
    first = storage.get_event(held.id)
    assert first is not None and (first.running, first.error) == (False, "event start failed")


def test_an_insert_cut_by_an_outage_is_owed_even_if_nothing_was_stored() -> None:
    storage = Flaky()
    recorder = EventRecorder(storage, heartbeat=0)
    storage.down.add("insert_event")
    with pytest.raises(AutoReconnect):
        recorder.start(start_spec(target=Target("pool", "p")))
    storage.down.clear()
    recorder.start(start_spec(target=Target("pool", "p"))).done()  # the owed finish: no-op
    assert storage.held_locks() == {} and len(storage.events) == 1


def test_custom_data_and_logs_are_bounded() -> None:
    storage = MemoryEventStorage()
    recorder = EventRecorder(storage, heartbeat=0)
    huge = "x" * (MAX_CUSTOM_DATA + 10)
    evt = recorder.start(start_spec(custom_data=[{"name": "f", "value": huge}]))
    evt.set_other_data({"blob": huge})
    for _ in range(5):
        evt.log("y" * (MAX_LOG // 4))
    evt.done(end_custom_data=huge)
    record = storage.get_event(evt.id)
    assert record is not None
    assert len(record.start_custom_data[0]["value"]) < MAX_CUSTOM_DATA
    assert len(record.other_custom_data["blob"]) < MAX_CUSTOM_DATA
    assert len(record.end_custom_data) < MAX_CUSTOM_DATA
    assert record.structured_log[0].message == LOG_TRUNCATED.format(n=MAX_LOG)
    assert sum(len(e.message) for e in record.structured_log[1:]) <= MAX_LOG


def test_a_hand_off_the_database_refused_leaves_the_event_with_its_opener() -> None:
    storage = Flaky()
    recorder = EventRecorder(storage, heartbeat=0)
    storage.down.add("stash_log")
    with pytest.raises(AutoReconnect):
        with recorder.record(start_spec(target=Target("pool", "p"))) as evt:
            with evt.handing_off():
                pass  # never reached: the log could not be stored with the event
    record = storage.get_event(evt.id)
    assert record is not None and not record.running and record.error == "connection refused"
    assert storage.held_locks() == {}
