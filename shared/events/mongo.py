"""``MongoEventStorage``: the recorder's storage port on the events database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from shared.events import documents as d
from shared.events.blocks import Block
from shared.events.model import CancelInfo, EventRecord, Instance, LogEntry, render_log
from shared.events.storage import (
    BLOCKS,
    EVENTS,
    INDEXES,
    KINDS,
    KINDS_FILLED,
    LOCKS_INDEX,
    OBSOLETE_INDEXES,
    OLD_LOCKS,
    Outcome,
)
from shared.golang.times import utc
from shared.mongo import Db, Doc, ensure_indexes


def _set_if(guard: Doc, fields: Doc) -> list[Doc]:
    """An update (a pipeline) setting the top-level ``fields`` only while the stored
    document has ``guard``'s values, so that the write filters by ``_id`` alone.

    Why: SecantusDB serves a write filtered by ``_id`` alone as a point lookup, while
    each field beside it has its planner read and decode every index's definition
    several times (the events have ten): a guarded finish filtered by ``_id``,
    ``running`` and ``holder`` cost the database 2.5 ms of CPU, this one 1.6 ms
    (profiled with py-spy, measured sequentially). The guard is evaluated once; the
    values are literals (a log line starting with ``$`` is not a field path)."""
    held = {"$and": [{"$eq": [f"${name}", {"$literal": v}]} for name, v in guard.items()]}
    merged = {"$mergeObjects": ["$$ROOT", {"$literal": fields}]}
    return [{"$replaceWith": {"$cond": [held, merged, "$$ROOT"]}}]


class MongoEventStorage:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.events = db[EVENTS]
        self.blocks = db[BLOCKS]
        self.kinds = db[KINDS]
        self._kinds_known: set[tuple[str, str]] = set()  # registered by this process

    def ensure_indexes(self) -> None:
        if LOCKS_INDEX.index_name() not in self.events.index_information():
            # Events still running from before events held their locks: a key of their
            # own (they lock nothing, as nothing reads the old lock documents). Once,
            # before the unique index exists: a missing key is null, and unique.
            for doc in self.events.find(
                {d.RUNNING: True, d.LOCK_KEYS: {"$exists": False}}, {d.ID: 1}
            ):
                self.events.update_one({d.ID: doc[d.ID]}, {"$set": {d.LOCK_KEYS: [str(doc[d.ID])]}})
        ensure_indexes(self.db, INDEXES)
        if OLD_LOCKS in self.db.list_collection_names():
            self.db.drop_collection(OLD_LOCKS)
        for collection, names in OBSOLETE_INDEXES.items():
            present = set(self.db[collection].index_information())
            for name in names:
                if name in present:
                    try:
                        self.db[collection].drop_index(name)
                    except OperationFailure:  # a concurrent start-up dropped it
                        pass
        self._fill_kinds()

    def _fill_kinds(self) -> None:
        """Once: the kinds of the events recorded before the kinds were kept (one
        distinct over every event; concurrent start-ups may each run it, harmlessly)."""
        if self.kinds.find_one({d.ID: KINDS_FILLED}, {d.ID: 1}) is not None:
            return
        for kind in self.events.distinct(d.KIND):
            if isinstance(kind, dict):
                self.add_kind(str(kind.get("type", "")), str(kind.get("name", "")))
        self.kinds.update_one({d.ID: KINDS_FILLED}, {"$set": {"filled": True}}, upsert=True)

    def add_kind(self, kind_type: str, name: str) -> None:
        """Keep a kind for ``GET /events/kinds`` (idempotent)."""
        try:
            self.kinds.update_one(
                {d.ID: f"{kind_type}\x00{name}"},
                {"$setOnInsert": {"type": kind_type, "name": name}},
                upsert=True,
            )
        except DuplicateKeyError:  # a concurrent upsert made it
            pass

    # -- events -------------------------------------------------------------------

    @staticmethod
    def _running(event_id: ObjectId, holder: str | None) -> Doc:
        query: Doc = {d.ID: event_id, d.RUNNING: True}
        if holder is not None:
            query[d.HOLDER] = holder
        return query

    def insert_event(self, record: EventRecord) -> str | None:
        try:
            self.events.insert_one(d.to_doc(record))
        except DuplicateKeyError as exc:
            taken = (exc.details or {}).get("keyValue") or {}
            if d.LOCK_KEYS in taken:
                return str(taken[d.LOCK_KEYS])
            if d.ID in taken or not record.running:
                raise
            # A server that does not say which key clashed: ask for each.
            for lock_id in record.lock_ids():
                if self.lock_holder(lock_id) is not None:
                    return lock_id
            raise
        if (record.kind.type, record.kind.name) not in self._kinds_known:
            self.add_kind(record.kind.type, record.kind.name)
            self._kinds_known.add((record.kind.type, record.kind.name))
        return None

    def lock_holder(self, lock_id: str) -> EventRecord | None:
        doc = self.events.find_one({d.RUNNING: True, d.LOCK_KEYS: lock_id})
        return d.from_doc(doc) if doc else None

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
        guard: Doc = {d.RUNNING: True}
        if holder is not None:
            guard[d.HOLDER] = holder
        if last_beat is not None:
            guard[d.LOCK_UPDATE_TIME] = last_beat
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
        # Running True -> False changes the document whenever the guard holds.
        return self.events.update_one({d.ID: event_id}, _set_if(guard, fields)).modified_count == 1

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
        # Every running event (few), through the locks' index; the beat checked here.
        cursor = self.events.find({d.RUNNING: True}, {d.ID: 1, d.LOCK_UPDATE_TIME: 1})
        beats = ((doc[d.ID], doc.get(d.LOCK_UPDATE_TIME)) for doc in cursor)
        return [(i, beat) for i, beat in beats if isinstance(beat, datetime) and utc(beat) < cutoff]

    # -- blocks -------------------------------------------------------------------

    def active_blocks(self) -> list[Block]:
        return [d.block_from_doc(doc) for doc in self.blocks.find({d.BLOCK_ACTIVE: True})]
