"""MongoDB storage of leases (collection ``leases``): who works on an app right now."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.provisioner.storage.runtime_ports import Lease
from shared.mongo import Db, Index

LEASES = "leases"

INDEXES: list[Index] = []  # read by _id only


def _doc(lease: Lease) -> dict[str, object]:
    return {
        "_id": lease.key,
        "holder": lease.holder,
        "host": lease.host,
        "pid": lease.pid,
        "expires": lease.expires,
    }


class MongoLeaseStore:
    def __init__(self, db: Db) -> None:
        self.c = db[LEASES]

    def acquire(self, lease: Lease, now: datetime) -> bool:
        try:
            self.c.insert_one(_doc(lease))
            return True
        except DuplicateKeyError:
            pass
        found = self.c.replace_one(
            {"_id": lease.key, "$or": [{"expires": {"$lt": now}}, {"holder": lease.holder}]},
            _doc(lease),
        )
        return found.matched_count == 1

    def take_over(self, lease: Lease, previous_holder: str) -> bool:
        found = self.c.replace_one({"_id": lease.key, "holder": previous_holder}, _doc(lease))
        return found.matched_count == 1

    def renew(self, key: str, holder: str, expires: datetime) -> bool:
        found = self.c.update_one({"_id": key, "holder": holder}, {"$set": {"expires": expires}})
        return found.matched_count == 1

    def release(self, key: str, holder: str) -> None:
        self.c.delete_one({"_id": key, "holder": holder})

    def get(self, key: str) -> Lease | None:
        d = self.c.find_one({"_id": key})
        if d is None:
            return None
        return Lease(d["_id"], d["holder"], d.get("host", ""), int(d.get("pid", 0)), d["expires"])
