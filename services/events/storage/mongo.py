"""Mongo implementations of the events context's stores.

The events and blocks collections are the shared kernel's (shared/events writes
them from every service); webhooks and deliveries belong to this service alone.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.events.domain.deliveries import Delivery
from services.events.domain.errors import WebhookExists
from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.webhooks import Webhook
from services.events.storage.ports import EventDoc
from shared.events import BLOCKS, EVENTS, Block
from shared.events.storage import ensure_indexes as ensure_event_indexes
from shared.mongo import Index, asc
from shared.mongo import ensure_indexes as ensure_declared

WEBHOOKS = "webhooks"
DELIVERIES = "webhook_deliveries"
DISPATCHES = "webhook_dispatches"

INDEXES = [
    Index(WEBHOOKS, asc("team_owner")),
    Index(DELIVERIES, asc("event_id")),
]


def ensure_indexes(db: Database) -> None:
    ensure_event_indexes(db)
    ensure_declared(db, INDEXES)


def _any_target(field: str, value: str) -> dict[str, Any]:
    return {"$or": [{f"target.{field}": value}, {f"extratargets.target.{field}": value}]}


def event_query(flt: EventFilter, visibility: Visibility) -> dict[str, Any] | None:
    """The Mongo form of ``flt.matches`` plus ``visibility.allows``; None = nothing visible."""
    clauses: list[dict[str, Any]] = []
    if flt.kind_names:
        clauses.append({"kind.name": {"$in": list(flt.kind_names)}})
    if flt.kind_type:
        clauses.append({"kind.type": flt.kind_type})
    if flt.target_type:
        clauses.append(_any_target("type", flt.target_type))
    if flt.target_value:
        clauses.append(_any_target("value", flt.target_value))
    if flt.owner_type:
        clauses.append({"owner.type": flt.owner_type})
    if flt.owner_name:
        clauses.append({"owner.name": flt.owner_name})
    if flt.since is not None:
        clauses.append({"starttime": {"$gte": flt.since}})
    if flt.until is not None:
        clauses.append({"starttime": {"$lte": flt.until}})
    if flt.running is not None:
        clauses.append({"running": flt.running})
    if flt.error_only:
        clauses.append({"error": {"$nin": ["", None]}})
    if not visibility.everything:
        options: list[dict[str, Any]] = []
        for scheme, contexts in visibility.schemes.items():
            prefix = {"allowed.scheme": {"$regex": "^" + re.escape(scheme)}}
            if contexts is None:
                options.append(prefix)
                continue
            for ctx_type, ctx_value in contexts:
                options.append(
                    {
                        **prefix,
                        "allowed.contexts": {
                            "$elemMatch": {"ctxtype": ctx_type, "value": ctx_value}
                        },
                    }
                )
        if not options:
            return None
        clauses.append({"$or": options})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class MongoEventStore:
    def __init__(self, db: Database) -> None:
        self.col = db[EVENTS]

    def find(self, flt: EventFilter, visibility: Visibility) -> list[EventDoc]:
        query = event_query(flt, visibility)
        if query is None:
            return []
        field, direction = flt.sort_key
        cursor = self.col.find(query).sort([(field, direction), ("_id", direction)])
        if flt.skip:
            cursor = cursor.skip(flt.skip)
        return list(cursor.limit(flt.limit))

    def get(self, event_id: ObjectId) -> EventDoc | None:
        return self.col.find_one({"_id": event_id})

    def finished_between(self, since: datetime, until: datetime) -> list[str]:
        cursor = self.col.find(
            {"endtime": {"$gte": since, "$lte": until}, "running": False}, {"_id": 1}
        )
        return sorted(str(d["_id"]) for d in cursor)

    def kinds(self) -> list[dict[str, str]]:
        kinds = [k for k in self.col.distinct("kind") if isinstance(k, dict)]
        return sorted(
            ({"type": k.get("type", ""), "name": k.get("name", "")} for k in kinds),
            key=lambda k: (k["type"], k["name"]),
        )

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        found = self.col.find_one_and_update(
            {"_id": event_id, "running": True, "cancelable": True, "cancelinfo.asked": False},
            {
                "$set": {
                    "cancelinfo.owner": owner,
                    "cancelinfo.reason": reason,
                    "cancelinfo.starttime": when,
                    "cancelinfo.asked": True,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return found is not None


class MongoBlockStore:
    def __init__(self, db: Database) -> None:
        self.col = db[BLOCKS]

    def list(self, active: bool | None) -> list[Block]:
        query = {} if active is None else {"active": active}
        return [Block.from_doc(d) for d in self.col.find(query).sort([("starttime", DESCENDING)])]

    def add(self, block: Block) -> None:
        self.col.insert_one(block.to_doc())

    def deactivate(self, block_id: ObjectId, when: datetime) -> bool:
        result = self.col.update_one(
            {"_id": block_id, "active": True}, {"$set": {"active": False, "endtime": when}}
        )
        return result.modified_count == 1


class MongoWebhookStore:
    def __init__(self, db: Database) -> None:
        self.col = db[WEBHOOKS]

    def create(self, hook: Webhook) -> None:
        try:
            self.col.insert_one(hook.to_doc())
        except DuplicateKeyError as exc:
            raise WebhookExists() from exc

    def get(self, name: str) -> Webhook | None:
        doc = self.col.find_one({"_id": name})
        return Webhook.from_doc(doc) if doc else None

    def list(self, teams: Collection[str] | None = None) -> list[Webhook]:
        query = {} if teams is None else {"team_owner": {"$in": list(teams)}}
        return [Webhook.from_doc(d) for d in self.col.find(query).sort([("_id", 1)])]

    def replace(self, hook: Webhook) -> bool:
        return self.col.replace_one({"_id": hook.name}, hook.to_doc()).matched_count == 1

    def delete(self, name: str) -> bool:
        return self.col.delete_one({"_id": name}).deleted_count == 1


class MongoDeliveryStore:
    def __init__(self, db: Database) -> None:
        self.col = db[DELIVERIES]
        self.dispatches = db[DISPATCHES]

    def mark_dispatched(self, event_id: str) -> None:
        self.dispatches.replace_one({"_id": event_id}, {"_id": event_id}, upsert=True)

    def dispatched(self, event_ids: Collection[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        return {d["_id"] for d in self.dispatches.find({"_id": {"$in": ids}}, {"_id": 1})}

    @staticmethod
    def _from_doc(doc: dict[str, Any]) -> Delivery:
        return Delivery(
            event_id=doc["event_id"],
            webhook=doc["webhook"],
            status=doc["status"],
            attempts=doc.get("attempts", 0),
            last_status=doc.get("last_status", 0),
            last_error=doc.get("last_error", ""),
            updated=doc.get("updated"),
        )

    def get(self, event_id: str, webhook: str) -> Delivery | None:
        doc = self.col.find_one({"_id": f"{event_id}:{webhook}"})
        return self._from_doc(doc) if doc else None

    @staticmethod
    def _to_doc(delivery: Delivery) -> dict[str, Any]:
        return {
            "_id": delivery.key,
            "event_id": delivery.event_id,
            "webhook": delivery.webhook,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "last_status": delivery.last_status,
            "last_error": delivery.last_error,
            "updated": delivery.updated,
        }

    def add(self, delivery: Delivery) -> bool:
        try:
            self.col.insert_one(self._to_doc(delivery))
        except DuplicateKeyError:
            return False
        return True

    def save(self, delivery: Delivery) -> None:
        self.col.replace_one({"_id": delivery.key}, self._to_doc(delivery), upsert=True)

    def for_event(self, event_id: str) -> list[Delivery]:
        return [
            self._from_doc(d) for d in self.col.find({"event_id": event_id}).sort([("webhook", 1)])
        ]
