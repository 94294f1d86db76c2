"""MongoDB storage of nodes (collection ``nodes``, the address as ``_id``) with their
health reports embedded (the newest few batches)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.models import HealthBatch, HealthCheck, Node
from services.provisioner.storage.mongo.common import from_pairs, seq, to_pairs, when
from shared.mongo import Db, Index, asc

NODES = "nodes"

INDEXES = [Index(NODES, asc("seq")), Index(NODES, asc("pool", "seq"))]


def _batch_doc(batch: HealthBatch) -> dict[str, Any]:
    return {
        "time": batch.time,
        "checks": [
            {"name": c.name, "err": c.err, "successful": c.successful} for c in batch.checks
        ],
    }


def _batch(d: dict[str, Any]) -> HealthBatch:
    return HealthBatch(
        time=when(d["time"]) or d["time"],
        checks=tuple(
            HealthCheck(c.get("name", ""), c.get("err", ""), bool(c.get("successful")))
            for c in d.get("checks") or []
        ),
    )


def _load(d: dict[str, Any]) -> Node:
    return Node(
        address=d["_id"],
        provisioner=d.get("provisioner", ""),
        pool=d.get("pool", ""),
        status=d.get("status", ""),
        metadata=from_pairs(d.get("metadata")),
        iaas_id=d.get("iaas_id", ""),
        checks=[_batch(b) for b in d.get("checks") or []],
        last_success=when(d.get("last_success")),
        last_update=when(d.get("last_update")),
    )


class MongoNodeStore:
    def __init__(self, db: Db) -> None:
        self.c = db[NODES]

    def add(self, node: Node) -> None:
        doc = {
            "_id": node.address,
            "seq": seq(),
            "provisioner": node.provisioner,
            "pool": node.pool,
            "status": node.status,
            "metadata": to_pairs(node.metadata),
            "iaas_id": node.iaas_id,
            "checks": [],
            "last_success": node.last_success,
            "last_update": node.last_update,
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            existing = self.get(node.address)
            owner = existing.provisioner if existing is not None else node.provisioner
            raise errors.NodeExists(node.address, owner) from None

    def get(self, address: str) -> Node | None:
        d = self.c.find_one({"_id": address})
        return None if d is None else _load(d)

    def all(self) -> list[Node]:
        return [_load(d) for d in self.c.find().sort("seq", ASCENDING)]

    def by_pool(self, pool: str) -> list[Node]:
        return [_load(d) for d in self.c.find({"pool": pool}).sort("seq", ASCENDING)]

    def update(self, address: str, *, pool: str, metadata: dict[str, str], status: str) -> bool:
        res = self.c.update_one(
            {"_id": address},
            {"$set": {"pool": pool, "metadata": to_pairs(metadata), "status": status}},
        )
        return res.matched_count == 1

    def report(self, node: Node, when: datetime) -> None:
        self.c.update_one(
            {"_id": node.address},
            {
                "$set": {"provisioner": node.provisioner, "pool": node.pool,
                         "status": node.status, "metadata": to_pairs(node.metadata),
                         "last_update": when},
                "$setOnInsert": {"seq": seq(), "iaas_id": node.iaas_id, "checks": [],
                                 "last_success": None},
            },
            upsert=True,
        )  # fmt: skip

    def set_status(self, address: str, status: str) -> bool:
        res = self.c.update_one(
            {"_id": address, "status": {"$nin": ["disabled", status]}},
            {"$set": {"status": status}},
        )
        return res.modified_count == 1

    def record_health(self, address: str, batch: HealthBatch, *, keep: int = 10) -> bool:
        update: dict[str, Any] = {
            "$push": {"checks": {"$each": [_batch_doc(batch)], "$slice": -keep}},
            "$set": {"last_update": batch.time},
        }
        if all(c.successful for c in batch.checks):
            update["$set"]["last_success"] = batch.time
        return self.c.update_one({"_id": address}, update).matched_count == 1

    def delete(self, address: str) -> bool:
        return self.c.delete_one({"_id": address}).deleted_count == 1
