"""MongoDB storage of pools (collection ``pools``; the default pool is a flag)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.models import Pool
from services.provisioner.storage.mongo.common import Flag, from_pairs, seq, to_pairs
from shared.mongo import Db, Index, asc

POOLS = "pools"
DEFAULT_POOL = "default-pool"

INDEXES = [Index(POOLS, asc("seq"))]


class MongoPoolStore:
    def __init__(self, db: Db) -> None:
        self.c = db[POOLS]
        self.flag = Flag(db, DEFAULT_POOL)

    @staticmethod
    def _load(d: dict[str, Any], default: str | None) -> Pool:
        return Pool(
            name=d["_id"],
            default=d["_id"] == default,
            provisioner=d.get("provisioner", ""),
            labels=from_pairs(d.get("labels")),
        )

    def add(self, pool: Pool) -> None:
        doc = {
            "_id": pool.name,
            "seq": seq(),
            "provisioner": pool.provisioner,
            "labels": to_pairs(pool.labels),
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.PoolExists() from None

    def get(self, name: str) -> Pool | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else self._load(d, self.flag.get())

    def all(self) -> list[Pool]:
        default = self.flag.get()
        return [self._load(d, default) for d in self.c.find().sort("seq", ASCENDING)]

    def default_name(self) -> str | None:
        name = self.flag.get()
        # A flag left behind by a pool removed halfway counts as no default.
        if name is not None and self.c.count_documents({"_id": name}, limit=1) == 0:
            return None
        return name

    def claim_default(self, name: str, *, force: bool) -> str | None:
        if force:
            previous = self.flag.force(name)
            return None if previous == name else previous
        holder = self.flag.claim(name)
        if holder == name:
            return None
        if holder is not None and self.c.count_documents({"_id": holder}, limit=1) == 0:
            # The holder no longer exists: take the flag over (atomically, from it).
            if self.flag.take_from(holder, name):
                return None
        raise errors.DefaultPoolExists()

    def release_default(self, name: str) -> bool:
        return self.flag.release(name)

    def set_labels(self, name: str, labels: dict[str, str]) -> bool:
        res = self.c.update_one({"_id": name}, {"$set": {"labels": to_pairs(labels)}})
        return res.matched_count == 1

    def set_provisioner(self, name: str, provisioner: str) -> bool:
        res = self.c.update_one({"_id": name}, {"$set": {"provisioner": provisioner}})
        return res.matched_count == 1

    def delete(self, name: str) -> bool:
        deleted = self.c.delete_one({"_id": name}).deleted_count == 1
        self.flag.release(name)
        return deleted
