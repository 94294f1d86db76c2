"""MongoDB storage of node healing configs (``healing_configs``, one per pool, ``""``
the base) and healing history (``healing_events``)."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING

from services.provisioner.domain.infra import HEALING_FIELDS, HealingConfig, HealingEvent
from services.provisioner.storage.mongo.common import when
from shared.mongo import Db, Index
from shared.newest import newest_first

CONFIGS = "healing_configs"
EVENTS = "healing_events"

INDEXES = [
    Index(EVENTS, [("start", DESCENDING)]),
    Index(EVENTS, [("action", 1), ("start", DESCENDING)]),
]


def _config(d: dict[str, Any]) -> HealingConfig:
    return HealingConfig(
        enabled=d.get("Enabled"),
        max_time_since_success=d.get("MaxTimeSinceSuccess"),
        max_unresponsive_time=d.get("MaxUnresponsiveTime"),
    )


def _event(d: dict[str, Any]) -> HealingEvent:
    return HealingEvent(
        id=d["_id"],
        action=d.get("action", ""),
        start=when(d.get("start")) or d["start"],
        end=when(d.get("end")),
        reason=d.get("reason", ""),
        successful=bool(d.get("successful")),
        error=d.get("error", ""),
        failing=dict(d.get("failing") or {}),
        created=dict(d.get("created") or {}),
        extra=d.get("extra"),
    )


class MongoHealingStore:
    def __init__(self, db: Db) -> None:
        self.c = db[CONFIGS]
        self.e = db[EVENTS]

    def configs(self) -> dict[str, HealingConfig]:
        return {d["_id"]: _config(d) for d in self.c.find().sort("_id", 1)}

    def merge(self, pool: str, changes: dict[str, object]) -> None:
        data = {k: v for k, v in changes.items() if k in HEALING_FIELDS}
        update: dict[str, Any] = {"$setOnInsert": {"pool": pool}}
        if data:
            update["$set"] = data
        self.c.update_one({"_id": pool}, update, upsert=True)

    def unset(self, pool: str, fields: list[str]) -> None:
        names = [f for f in fields if f in HEALING_FIELDS]
        if names:
            self.c.update_one({"_id": pool}, {"$unset": {n: "" for n in names}})

    def delete(self, pool: str) -> bool:
        return self.c.delete_one({"_id": pool}).deleted_count == 1

    def add_event(self, event: HealingEvent) -> None:
        self.e.insert_one(
            {"_id": event.id, "action": event.action, "start": event.start, "end": event.end,
             "reason": event.reason, "successful": event.successful, "error": event.error,
             "failing": event.failing, "created": event.created, "extra": event.extra}
        )  # fmt: skip

    def events(self, action: str = "", limit: int = 100) -> list[HealingEvent]:
        # Windows of ``start`` (shared.newest): the history grows with every run.
        match = {"action": action} if action else {}
        return [_event(d) for d in newest_first(self.e, match, "start", limit)]
