"""MongoDB storage of node autoscale rules (``node_autoscale_rules``, one per pool) and
runs (``node_autoscale_events``)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

from services.provisioner.domain.infra import AutoscaleEvent, AutoscaleRule
from services.provisioner.storage.mongo.common import when
from shared.mongo import Db, Index
from shared.newest import newest_first

RULES = "node_autoscale_rules"
EVENTS = "node_autoscale_events"

INDEXES = [Index(EVENTS, [("start", DESCENDING)])]


def _rule(d: dict[str, Any]) -> AutoscaleRule:
    return AutoscaleRule(
        metadata_filter=d["_id"],
        enabled=bool(d.get("enabled", True)),
        max_container_count=int(d.get("max_container_count", 0)),
        scale_down_ratio=float(d.get("scale_down_ratio", 0.0)),
        max_memory_ratio=float(d.get("max_memory_ratio", 0.0)),
        prevent_rebalance=bool(d.get("prevent_rebalance", False)),
    )


def _event(d: dict[str, Any]) -> AutoscaleEvent:
    return AutoscaleEvent(
        id=d["_id"],
        pool=d.get("pool", ""),
        action=d.get("action", ""),
        reason=d.get("reason", ""),
        start=when(d.get("start")) or d["start"],
        end=when(d.get("end")) or d["end"],
        successful=bool(d.get("successful")),
        error=d.get("error", ""),
        log=d.get("log", ""),
        nodes=tuple(d.get("nodes") or ()),
    )


class MongoNodeAutoscaleStore:
    def __init__(self, db: Db) -> None:
        self.r = db[RULES]
        self.e = db[EVENTS]

    def rules(self) -> list[AutoscaleRule]:
        return [_rule(d) for d in self.r.find().sort("_id", ASCENDING)]

    def put_rule(self, rule: AutoscaleRule) -> None:
        self.r.replace_one(
            {"_id": rule.metadata_filter},
            {"enabled": rule.enabled, "max_container_count": rule.max_container_count,
             "scale_down_ratio": rule.scale_down_ratio,
             "max_memory_ratio": rule.max_memory_ratio,
             "prevent_rebalance": rule.prevent_rebalance},
            upsert=True,
        )  # fmt: skip

    def delete_rule(self, metadata_filter: str) -> bool:
        return self.r.delete_one({"_id": metadata_filter}).deleted_count == 1

    def add_event(self, event: AutoscaleEvent) -> None:
        self.e.insert_one(
            {"_id": event.id, "pool": event.pool, "action": event.action,
             "reason": event.reason, "start": event.start, "end": event.end,
             "successful": event.successful, "error": event.error, "log": event.log,
             "nodes": list(event.nodes)}
        )  # fmt: skip

    def events(self, skip: int = 0, limit: int = 100) -> list[AutoscaleEvent]:
        if skip + limit > 2**31:  # past any history (and past a query's limit)
            return []
        # Windows of ``start`` (shared.newest): the history grows with every run.
        return [_event(d) for d in newest_first(self.e, {}, "start", skip + limit)[skip:]]
