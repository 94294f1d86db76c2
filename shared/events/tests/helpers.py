"""Looking into either storage from a test."""

from __future__ import annotations

from shared.events import EVENTS, LOCKS, EventRecord, EventStorage, MongoEventStorage, documents
from shared.testing.events import MemoryEventStorage


def all_events(storage: EventStorage) -> list[EventRecord]:
    if isinstance(storage, MemoryEventStorage):
        return sorted(storage.events.values(), key=lambda r: r.id)
    assert isinstance(storage, MongoEventStorage)
    return [documents.from_doc(d) for d in storage.db[EVENTS].find().sort("_id", 1)]


def lock_ids(storage: EventStorage) -> set[str]:
    if isinstance(storage, MemoryEventStorage):
        return set(storage.locks)
    assert isinstance(storage, MongoEventStorage)
    return {d["_id"] for d in storage.db[LOCKS].find({}, {"_id": 1})}


def backdate(storage: EventStorage, event_id: object, when: object) -> None:
    """As if the event's holder had stopped beating at ``when`` (event and locks)."""
    from dataclasses import replace

    if isinstance(storage, MemoryEventStorage):
        storage.events[event_id] = replace(storage.events[event_id], lock_update_time=when)  # type: ignore[index, arg-type]
        for lock_id, lock in list(storage.locks.items()):
            if lock.event == event_id:
                storage.locks[lock_id] = replace(lock, updated=when)  # type: ignore[arg-type]
        return
    assert isinstance(storage, MongoEventStorage)
    storage.db[EVENTS].update_one({"_id": event_id}, {"$set": {"lockupdatetime": when}})
    storage.db[LOCKS].update_many({"event": event_id}, {"$set": {"updated": when}})
