"""The event recorder for unit tests: the real ``EventRecorder`` on memory storage.

``MemoryEventStorage`` passes the same contract suite as ``MongoEventStorage``
(shared/events/tests/test_storage_contract.py), so locks, blocks, expiry and
hand-over behave as on the database::

    recorder = FakeRecorder()
    ... the operation under test records through it ...
    assert recorder.last().kind.name == "team.create" and recorder.last().error == ""
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bson import ObjectId

from shared.events import documents
from shared.events.blocks import Block
from shared.events.model import (
    NOBODY_BUT_ADMINS,
    Allowed,
    CancelInfo,
    EventRecord,
    EventSpec,
    ExtraTarget,
    Instance,
    LogEntry,
    Owner,
    Target,
    render_log,
)
from shared.events.recorder import EventRecorder
from shared.events.storage import Outcome
from shared.identity import Identity


class MemoryEventStorage:
    def __init__(self) -> None:
        self.events: dict[ObjectId, EventRecord] = {}
        self.blocks: dict[ObjectId, Block] = {}
        self._mutex = threading.RLock()

    # -- events -------------------------------------------------------------------

    def _held(self, event_id: ObjectId, holder: str | None) -> EventRecord | None:
        record = self.events.get(event_id)
        if record is None or not record.running:
            return None
        if holder is not None and record.holder != holder:
            return None
        return record

    def insert_event(self, record: EventRecord) -> str | None:
        with self._mutex:
            if record.id in self.events:
                raise ValueError(f"duplicate event id {record.id}")
            if record.running:
                held = self.held_locks()
                for lock_id in documents.lock_keys(record):
                    if lock_id in held:
                        return lock_id
            self.events[record.id] = record
            return None

    def put(self, record: EventRecord) -> None:
        """Tests: store ``record`` as is (a document inserted by hand: no lock check)."""
        with self._mutex:
            self.events[record.id] = record

    def lock_holder(self, lock_id: str) -> EventRecord | None:
        with self._mutex:
            return self.events.get(self.held_locks().get(lock_id))  # type: ignore[arg-type]

    def held_locks(self) -> dict[str, ObjectId]:
        """Every lock a running event holds (its own-id keys too), with that event."""
        with self._mutex:
            return {
                key: r.id
                for r in self.events.values()
                if r.running
                for key in documents.lock_keys(r)
            }

    def get_event(self, event_id: ObjectId) -> EventRecord | None:
        with self._mutex:
            return self.events.get(event_id)

    def finish_event(
        self,
        event_id: ObjectId,
        outcome: Outcome,
        *,
        holder: str | None = None,
        last_beat: datetime | None = None,
    ) -> bool:
        with self._mutex:
            record = self._held(event_id, holder)
            if record is None or (last_beat is not None and record.lock_update_time != last_beat):
                return False
            done = replace(
                record, running=False, end_time=outcome.end_time, error=outcome.error,
                pending_log=(),
            )  # fmt: skip
            if outcome.log is not None:
                done = replace(
                    done, end_custom_data=outcome.end_custom_data,
                    log=render_log(outcome.log), structured_log=outcome.log,
                )  # fmt: skip
            self.events[event_id] = done
            return True

    def beat(self, event_ids: Sequence[ObjectId], holder: str, when: datetime) -> set[ObjectId]:
        with self._mutex:
            held = {i for i in event_ids if self._held(i, holder) is not None}
            for event_id in held:
                self.events[event_id] = replace(self.events[event_id], lock_update_time=when)
            return held

    def adopt(
        self, event_id: ObjectId, holder: str, instance: Instance, when: datetime
    ) -> EventRecord | None:
        with self._mutex:
            record = self._held(event_id, None)
            if record is None:
                return None
            adopted = replace(
                record, holder=holder, lock_update_time=when,
                instance=replace(record.instance, name=instance.name),
            )  # fmt: skip
            self.events[event_id] = adopted
            return adopted

    def _update(self, event_id: ObjectId, holder: str, **fields: Any) -> bool:
        with self._mutex:
            record = self._held(event_id, holder)
            if record is None:
                return False
            self.events[event_id] = replace(record, **fields)
            return True

    def stash_log(self, event_id: ObjectId, holder: str, entries: Sequence[LogEntry]) -> bool:
        return self._update(event_id, holder, pending_log=tuple(entries))

    def set_other_data(self, event_id: ObjectId, holder: str, data: Any) -> bool:
        return self._update(event_id, holder, other_custom_data=data)

    def cancel_info(self, event_id: ObjectId) -> CancelInfo | None:
        record = self.get_event(event_id)
        return record.cancel_info if record else None

    def ack_cancel(self, event_id: ObjectId, holder: str, when: datetime) -> bool:
        with self._mutex:
            record = self._held(event_id, holder)
            if record is None or not record.cancel_info.asked:
                return False
            info = replace(record.cancel_info, canceled=True, ack_time=when)
            self.events[event_id] = replace(record, cancel_info=info)
            return True

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        with self._mutex:
            record = self._held(event_id, None)
            if record is None or not record.cancelable or record.cancel_info.asked:
                return False
            info = replace(
                record.cancel_info, owner=owner, reason=reason, start_time=when, asked=True
            )
            self.events[event_id] = replace(record, cancel_info=info)
            return True

    def stale_events(self, cutoff: datetime) -> list[tuple[ObjectId, datetime]]:
        with self._mutex:
            return [
                (r.id, r.lock_update_time)
                for r in self.events.values()
                if r.running and r.lock_update_time < cutoff
            ]

    # -- blocks -------------------------------------------------------------------

    def active_blocks(self) -> list[Block]:
        with self._mutex:
            return [b for b in self.blocks.values() if b.active]

    def docs(self) -> list[dict[str, Any]]:
        """The records as the database would store them (what a sort compares)."""
        with self._mutex:
            return [documents.to_doc(r) for r in self.events.values()]


class FakeRecorder(EventRecorder):
    """``EventRecorder`` on ``MemoryEventStorage``, without a heartbeat thread or the
    10 s retry on locked apps, remembering what it published."""

    def __init__(self, storage: MemoryEventStorage | None = None, **kw: Any) -> None:
        self.memory = storage or MemoryEventStorage()
        self.published: list[tuple[str, dict[str, Any]]] = []
        kw.setdefault("heartbeat", 0)
        kw.setdefault("app_lock_retry", 0)
        kw.setdefault("instance", "fake")
        kw.setdefault("publish", lambda key, body: self.published.append((key, body)))
        super().__init__(self.memory, **kw)

    @property
    def records(self) -> list[EventRecord]:
        """Every stored event, oldest first."""
        return sorted(self.memory.events.values(), key=lambda r: (r.start_time, r.id))

    def kinds(self) -> list[str]:
        return [r.kind.name for r in self.records]

    def last(self) -> EventRecord:
        return self.records[-1]


def spec(
    *,
    target: Target,
    kind: str,
    owner: Owner | Identity | tuple[str, str],
    allowed: Allowed = NOBODY_BUT_ADMINS,
    **kw: Any,
) -> EventSpec:
    """An ``EventSpec`` with test-friendly owners (an identity or a ``(type, name)``)."""
    if isinstance(owner, Identity):
        owner = Owner.of(owner)
    elif isinstance(owner, tuple):
        owner = Owner(*owner)
    if "extra_targets" in kw:
        kw["extra_targets"] = tuple(
            e if isinstance(e, ExtraTarget) else ExtraTarget(*e) for e in kw["extra_targets"]
        )
    return EventSpec(target=target, kind=kind, owner=owner, allowed=allowed, **kw)
