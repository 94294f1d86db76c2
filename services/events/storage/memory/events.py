"""The event log and blocks in memory: views over ``shared.testing``'s memory event
storage, so events a ``FakeRecorder`` records are the ones the API lists."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.webhooks import EventHead
from shared.events import Block, EventRecord, Kind
from shared.events import documents as d
from shared.testing.events import MemoryEventStorage


def _sortable(value: Any) -> tuple[int, Any]:
    """Mongo's order of BSON types: null, numbers, strings, objects, dates."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, datetime):
        return (4, value if value.tzinfo else value.replace(tzinfo=UTC))
    return (3, str(value))


class MemoryEventStore:
    def __init__(self, storage: MemoryEventStorage | None = None) -> None:
        self.storage = storage or MemoryEventStorage()

    def insert(self, record: EventRecord) -> None:
        """Tests: an event as stored, whatever else runs (like a document inserted as
        is: its locks are not checked)."""
        self.storage.put(record)

    def find(self, flt: EventFilter, visibility: Visibility) -> list[EventRecord]:
        hits = [
            r
            for r in list(self.storage.events.values())
            if flt.matches(r) and (visibility.everything or visibility.allows(r.allowed))
        ]
        field, direction = flt.sort_key

        def key(r: EventRecord) -> tuple[tuple[int, Any], ObjectId]:
            return _sortable(d.field_value(d.to_doc(r), field)), r.id

        hits.sort(key=key, reverse=direction < 0)
        return hits[flt.skip : flt.skip + flt.limit]

    def get(self, event_id: ObjectId) -> EventRecord | None:
        return self.storage.get_event(event_id)

    def finished_between(
        self, since: datetime, until: datetime, *, page_size: int
    ) -> Iterator[list[EventHead]]:
        found = sorted(
            (
                r
                for r in list(self.storage.events.values())
                if not r.running and since <= r.end_time <= until
            ),
            key=lambda r: r.id,
        )
        heads = [
            EventHead(
                id=r.unique_id,
                target=(r.target.type, r.target.value),
                extra_targets=tuple((e.target.type, e.target.value) for e in r.extra_targets),
                kind=(r.kind.type, r.kind.name),
                error=r.error,
                contexts=tuple(r.allowed.contexts),
                end_time=r.end_time,
            )
            for r in found
        ]
        for start in range(0, len(heads), page_size):
            yield heads[start : start + page_size]

    def kinds(self) -> list[Kind]:
        kinds = {r.kind for r in list(self.storage.events.values())}
        return sorted(kinds, key=lambda k: (k.type, k.name))

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        return self.storage.request_cancel(event_id, owner=owner, reason=reason, when=when)


class MemoryBlockStore:
    def __init__(self, storage: MemoryEventStorage | None = None) -> None:
        self.storage = storage or MemoryEventStorage()

    def list(self, active: bool | None) -> list[Block]:
        found = [b for b in self.storage.blocks.values() if active is None or b.active == active]
        return sorted(found, key=lambda b: b.start_time, reverse=True)

    def add(self, block: Block) -> None:
        self.storage.blocks[block.id] = block

    def deactivate(self, block_id: ObjectId, when: datetime) -> bool:
        block = self.storage.blocks.get(block_id)
        if block is None or not block.active:
            return False
        self.storage.blocks[block_id] = replace(block, active=False, end_time=when)
        return True
