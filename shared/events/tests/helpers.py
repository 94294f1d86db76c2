"""Looking into either storage from a test."""

from __future__ import annotations

from shared.events import EVENTS, EventRecord, EventStorage, MongoEventStorage, documents
from shared.testing.events import MemoryEventStorage


def all_events(storage: EventStorage) -> list[EventRecord]:
    if isinstance(storage, MemoryEventStorage):
        return sorted(storage.events.values(), key=lambda r: r.id)
    assert isinstance(storage, MongoEventStorage)
    return [documents.from_doc(d) for d in storage.db[EVENTS].find().sort("_id", 1)]


def lock_ids(storage: EventStorage) -> set[str]:
    """The targets running events lock (a running event is its own lock)."""
    return {lock for r in all_events(storage) if r.running for lock in r.lock_ids()}


def backdate(storage: EventStorage, event_id: object, when: object) -> None:
    """As if the event's holder had stopped beating at ``when`` (it and its locks)."""
    from dataclasses import replace

    if isinstance(storage, MemoryEventStorage):
        storage.events[event_id] = replace(storage.events[event_id], lock_update_time=when)  # type: ignore[index, arg-type]
        return
    assert isinstance(storage, MongoEventStorage)
    storage.db[EVENTS].update_one({"_id": event_id}, {"$set": {"lockupdatetime": when}})
