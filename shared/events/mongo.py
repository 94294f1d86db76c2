"""``MongoEventStorage``: the recorder's storage port on the events database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from shared.events import documents as d
from shared.events.blocks import Block
from shared.events.locks import MongoLocks
from shared.events.model import CancelInfo, EventRecord, Instance, LogEntry, render_log
from shared.events.storage import BLOCKS, EVENTS, INDEXES, OBSOLETE_INDEXES, Lock, Outcome
from shared.mongo import Db, Doc, ensure_indexes


class MongoEventStorage:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.events = db[EVENTS]
        self.blocks = db[BLOCKS]
        self.locks = MongoLocks(db)

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db, INDEXES)
        for collection, names in OBSOLETE_INDEXES.items():
            present = set(self.db[collection].index_information())
            for name in names:
                if name in present:
                    try:
                        self.db[collection].drop_index(name)
                    except OperationFailure:  # a concurrent start-up dropped it
                        pass

    # -- locks --------------------------------------------------------------------

    def insert_lock(self, lock: Lock) -> bool:
        return self.locks.insert(lock)

    def get_lock(self, lock_id: str) -> Lock | None:
        return self.locks.get(lock_id)

    def take_over_lock(self, stale: Lock, lock: Lock) -> bool:
        return self.locks.take_over(stale, lock)

    def delete_locks(self, event_id: ObjectId, lock_ids: Sequence[str] | None = None) -> None:
        self.locks.delete(event_id, lock_ids)

    def refresh_locks(self, event_ids: Sequence[ObjectId], when: datetime) -> None:
        self.locks.refresh(event_ids, when)

    def delete_locks_older_than(self, cutoff: datetime) -> int:
        return self.locks.delete_older_than(cutoff)

    # -- events -------------------------------------------------------------------

    @staticmethod
    def _running(event_id: ObjectId, holder: str | None) -> Doc:
        query: Doc = {d.ID: event_id, d.RUNNING: True}
        if holder is not None:
            query[d.HOLDER] = holder
        return query

    def insert_event(self, record: EventRecord) -> None:
        self.events.insert_one(d.to_doc(record))

    def get_event(self, event_id: ObjectId) -> EventRecord | None:
        doc = self.events.find_one({d.ID: event_id})
        return d.from_doc(doc) if doc else None

    def finish_event(
        self,
        event_id: ObjectId,
        outcome: Outcome,
        *,
        holder: str | None = None,
        last_beat: datetime | None = None,
    ) -> bool:
        query = self._running(event_id, holder)
        if last_beat is not None:
            query[d.LOCK_UPDATE_TIME] = last_beat
        fields: Doc = {
            d.RUNNING: False,
            d.END_TIME: outcome.end_time,
            d.ERROR: outcome.error,
            d.PENDING_LOG: None,
        }
        if outcome.log is not None:
            fields.update(
                {
                    d.END_CUSTOM_DATA: outcome.end_custom_data,
                    d.LOG: render_log(outcome.log),
                    d.STRUCTURED_LOG: d.entries_doc(outcome.log),
                }
            )
        return self.events.update_one(query, {"$set": fields}).modified_count == 1

    def beat(self, event_ids: Sequence[ObjectId], holder: str, when: datetime) -> set[ObjectId]:
        if not event_ids:
            return set()
        query = {d.ID: {"$in": list(event_ids)}, d.RUNNING: True, d.HOLDER: holder}
        self.events.update_many(query, {"$set": {d.LOCK_UPDATE_TIME: when}})
        return {doc[d.ID] for doc in self.events.find(query, {d.ID: 1})}

    def adopt(
        self, event_id: ObjectId, holder: str, instance: Instance, when: datetime
    ) -> EventRecord | None:
        doc = self.events.find_one_and_update(
            self._running(event_id, None),
            {"$set": {d.HOLDER: holder, d.LOCK_UPDATE_TIME: when, d.INSTANCE_NAME: instance.name}},
            return_document=ReturnDocument.AFTER,
        )
        return d.from_doc(doc) if doc else None

    def stash_log(self, event_id: ObjectId, holder: str, entries: Sequence[LogEntry]) -> bool:
        result = self.events.update_one(
            self._running(event_id, holder), {"$set": {d.PENDING_LOG: d.entries_doc(entries)}}
        )
        return result.matched_count == 1

    def set_other_data(self, event_id: ObjectId, holder: str, data: Any) -> bool:
        result = self.events.update_one(
            self._running(event_id, holder), {"$set": {d.OTHER_CUSTOM_DATA: data}}
        )
        return result.matched_count == 1

    def cancel_info(self, event_id: ObjectId) -> CancelInfo | None:
        doc = self.events.find_one({d.ID: event_id}, {d.CANCEL_INFO: 1})
        return d.from_doc(doc).cancel_info if doc else None

    def ack_cancel(self, event_id: ObjectId, holder: str, when: datetime) -> bool:
        query = {**self._running(event_id, holder), d.CANCEL_ASKED: True}
        result = self.events.update_one(query, {"$set": {d.CANCEL_DONE: True, d.CANCEL_ACK: when}})
        return result.matched_count == 1

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        query = {**self._running(event_id, None), d.CANCELABLE: True, d.CANCEL_ASKED: False}
        fields = {d.CANCEL_OWNER: owner, d.CANCEL_REASON: reason, d.CANCEL_START: when}
        result = self.events.update_one(query, {"$set": {**fields, d.CANCEL_ASKED: True}})
        return result.modified_count == 1

    def stale_events(self, cutoff: datetime) -> list[tuple[ObjectId, datetime]]:
        cursor = self.events.find(
            {d.RUNNING: True, d.LOCK_UPDATE_TIME: {"$lt": cutoff}},
            {d.ID: 1, d.LOCK_UPDATE_TIME: 1},
        )
        return [(doc[d.ID], doc[d.LOCK_UPDATE_TIME]) for doc in cursor]

    # -- blocks -------------------------------------------------------------------

    def active_blocks(self) -> list[Block]:
        return [d.block_from_doc(doc) for doc in self.blocks.find({d.BLOCK_ACTIVE: True})]
