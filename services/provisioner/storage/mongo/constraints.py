"""MongoDB storage of pool constraints (collection ``pool_constraints``), one document
per (pool expression, field)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from services.provisioner.domain.models import Constraint
from services.provisioner.storage.mongo.common import seq
from shared.mongo import Db, Index, asc

CONSTRAINTS = "pool_constraints"

INDEXES = [Index(CONSTRAINTS, asc("seq")), Index(CONSTRAINTS, asc("field", "seq"))]


def _id(pool_expr: str, field: str) -> str:
    # The field is one of a fixed set without "|": the key is unambiguous.
    return f"{field}|{pool_expr}"


def _load(d: dict[str, Any]) -> Constraint:
    return Constraint(
        pool_expr=d["pool_expr"],
        field=d["field"],
        values=tuple(d.get("values") or ()),
        blacklist=bool(d.get("blacklist", False)),
    )


def _empty(values: tuple[str, ...] | list[str]) -> bool:
    return not values or (len(values) == 1 and values[0] == "")


class MongoConstraintStore:
    def __init__(self, db: Db) -> None:
        self.c = db[CONSTRAINTS]

    def get(self, pool_expr: str, field: str) -> Constraint | None:
        d = self.c.find_one({"_id": _id(pool_expr, field)})
        return None if d is None else _load(d)

    def all(self) -> list[Constraint]:
        return [_load(d) for d in self.c.find().sort("seq", ASCENDING)]

    def for_field(self, field: str) -> list[Constraint]:
        return [_load(d) for d in self.c.find({"field": field}).sort("seq", ASCENDING)]

    def set(self, constraint: Constraint) -> None:
        key = _id(constraint.pool_expr, constraint.field)
        if _empty(constraint.values):
            self.c.delete_one({"_id": key})
            return
        self.c.update_one(
            {"_id": key},
            {
                "$set": {"values": list(dict.fromkeys(constraint.values)),
                         "blacklist": constraint.blacklist},
                "$setOnInsert": {"pool_expr": constraint.pool_expr,
                                 "field": constraint.field, "seq": seq()},
            },
            upsert=True,
        )  # fmt: skip

    def append(self, pool_expr: str, field: str, values: list[str]) -> None:
        self.c.update_one(
            {"_id": _id(pool_expr, field)},
            {
                "$addToSet": {"values": {"$each": list(values)}},
                "$setOnInsert": {"pool_expr": pool_expr, "field": field, "seq": seq(),
                                 "blacklist": False},
            },
            upsert=True,
        )  # fmt: skip

    def remove_values(self, pool_expr: str, field: str, values: list[str]) -> bool:
        res = self.c.update_one(
            {"_id": _id(pool_expr, field)}, {"$pull": {"values": {"$in": list(values)}}}
        )
        return res.matched_count == 1

    def delete(self, pool_expr: str, field: str) -> bool:
        return self.c.delete_one({"_id": _id(pool_expr, field)}).deleted_count == 1
