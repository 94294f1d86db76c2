"""Webhook deliveries (``webhook_deliveries``, one per event x webhook) and the events
whose deliveries were queued (``webhook_dispatches``), so a restart resumes them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.events.domain.deliveries import Delivery
from shared.mongo import Db, Index, asc

DELIVERIES = "webhook_deliveries"
DISPATCHES = "webhook_dispatches"
INDEXES = [Index(DELIVERIES, asc("event_id")), Index(DISPATCHES, asc("endtime"))]


class MongoDeliveryStore:
    def __init__(self, db: Db) -> None:
        self.col = db[DELIVERIES]
        self.dispatches = db[DISPATCHES]

    def mark_dispatched(self, event_id: str, ended: datetime) -> None:
        self.dispatches.replace_one(
            {"_id": event_id}, {"_id": event_id, "endtime": ended}, upsert=True
        )

    def dispatched_between(self, since: datetime, until: datetime) -> set[str]:
        # A range on the endtime index: SecantusDB answers an $in of a thousand ids
        # far slower than this walk over the whole window.
        cursor = self.dispatches.find({"endtime": {"$gte": since, "$lte": until}}, {"_id": 1})
        return {doc["_id"] for doc in cursor}

    def forget_dispatched_before(self, when: datetime) -> None:
        self.dispatches.delete_many({"endtime": {"$lt": when}})

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
