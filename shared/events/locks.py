"""Target locks in MongoDB: the ``event_locks`` collection and nothing else.

One document per locked target, ``_id`` = ``<type>(<value>)``, so taking a lock is an
insert that fails on the unique ``_id`` while someone holds it, and a takeover is an
update guarded by the stale ``(event, updated)`` pair: of two racers only one wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from shared.events.model import Owner, Target
from shared.events.storage import LOCKS, Lock
from shared.golang.times import utc
from shared.mongo import Db, Doc


def _doc(lock: Lock) -> Doc:
    return {
        "_id": lock.id,
        "event": lock.event,
        "target": {"type": lock.target.type, "value": lock.target.value},
        "kind": lock.kind,
        "owner": {"type": lock.owner.type, "name": lock.owner.name},
        "starttime": lock.start_time,
        "updated": lock.updated,
    }


def _lock(doc: Mapping[str, Any]) -> Lock:
    target, owner = doc.get("target") or {}, doc.get("owner") or {}
    return Lock(
        id=doc["_id"],
        event=doc["event"],
        target=Target(target.get("type", ""), target.get("value", "")),
        kind=str(doc.get("kind", "")),
        owner=Owner(owner.get("type", ""), owner.get("name", "")),
        start_time=utc(doc.get("starttime")),
        updated=utc(doc["updated"]),
    )


class MongoLocks:
    def __init__(self, db: Db) -> None:
        self.col = db[LOCKS]

    def insert(self, lock: Lock) -> bool:
        try:
            self.col.insert_one(_doc(lock))
        except DuplicateKeyError:
            return False
        return True

    def get(self, lock_id: str) -> Lock | None:
        doc = self.col.find_one({"_id": lock_id})
        return _lock(doc) if doc else None

    def take_over(self, stale: Lock, lock: Lock) -> bool:
        new = _doc(lock)
        del new["_id"]
        result = self.col.update_one(
            {"_id": stale.id, "event": stale.event, "updated": stale.updated}, {"$set": new}
        )
        return result.modified_count == 1

    def delete(self, event_id: ObjectId, lock_ids: Sequence[str] | None = None) -> None:
        query: Doc = {"event": event_id}
        if lock_ids is not None:
            query["_id"] = {"$in": list(lock_ids)}
        self.col.delete_many(query)

    def refresh(self, event_ids: Sequence[ObjectId], when: datetime) -> None:
        if event_ids:
            self.col.update_many({"event": {"$in": list(event_ids)}}, {"$set": {"updated": when}})

    def delete_older_than(self, cutoff: datetime) -> int:
        return self.col.delete_many({"updated": {"$lt": cutoff}}).deleted_count
