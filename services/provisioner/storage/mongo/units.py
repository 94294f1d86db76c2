"""MongoDB storage of unit records (collection ``units``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING

from services.provisioner.domain.units import MUTABLE_FIELDS, Unit
from services.provisioner.storage.mongo.runtime_docs import unit_doc, unit_of
from shared.mongo import Db, Index, asc

UNITS = "units"

INDEXES = [Index(UNITS, asc("app", "created_at"))]

_ORDER = [("app", ASCENDING), ("created_at", ASCENDING)]


class MongoUnitStore:
    def __init__(self, db: Db) -> None:
        self.c = db[UNITS]

    def put(self, unit: Unit) -> None:
        self.c.replace_one({"_id": unit.id}, unit_doc(unit), upsert=True)

    def get(self, unit_id: str) -> Unit | None:
        d = self.c.find_one({"_id": unit_id})
        return None if d is None else unit_of(d)

    def of_app(self, app: str) -> list[Unit]:
        return [unit_of(d) for d in self.c.find({"app": app}).sort(_ORDER)]

    def of_apps(self, apps: Iterable[str]) -> dict[str, list[Unit]]:
        names = list(dict.fromkeys(apps))
        found: dict[str, list[Unit]] = {name: [] for name in names}
        if names:
            for d in self.c.find({"app": {"$in": names}}).sort(_ORDER):
                found[d["app"]].append(unit_of(d))
        return found

    def all(self) -> list[Unit]:
        return [unit_of(d) for d in self.c.find().sort(_ORDER)]

    def update(self, unit_id: str, fields: dict[str, Any]) -> bool:
        unknown = set(fields) - set(MUTABLE_FIELDS)
        if unknown:
            raise ValueError(f"not unit fields: {sorted(unknown)}")
        return self.c.update_one({"_id": unit_id}, {"$set": fields}).matched_count == 1

    def delete(self, unit_id: str) -> bool:
        return self.c.delete_one({"_id": unit_id}).deleted_count == 1
