"""MongoDB storage of plans (collection ``plans``; the default plan is a flag)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.models import Plan
from services.provisioner.storage.mongo.common import Flag
from shared.mongo import Db, Index

PLANS = "plans"
DEFAULT_PLAN = "default-plan"

INDEXES: list[Index] = []  # looked up by _id and listed by _id: no other index


def _load(d: dict[str, Any], default: str | None) -> Plan:
    return Plan(
        name=d["_id"],
        memory=int(d.get("memory", 0)),
        swap=int(d.get("swap", 0)),
        cpumilli=int(d.get("cpumilli", 0)),
        cpushare=int(d.get("cpushare", 0)),
        default=d["_id"] == default,
    )


class MongoPlanStore:
    def __init__(self, db: Db) -> None:
        self.c = db[PLANS]
        self.flag = Flag(db, DEFAULT_PLAN)

    def add(self, plan: Plan) -> None:
        doc = {
            "_id": plan.name,
            "memory": plan.memory,
            "swap": plan.swap,
            "cpumilli": plan.cpumilli,
            "cpushare": plan.cpushare,
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.PlanExists() from None
        if plan.default:
            self.flag.force(plan.name)

    def get(self, name: str) -> Plan | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _load(d, self.flag.get())

    def all(self) -> list[Plan]:
        default = self.flag.get()
        return [_load(d, default) for d in self.c.find().sort("_id", ASCENDING)]

    def default(self) -> Plan | None:
        name = self.flag.get()
        return None if name is None else self.get(name)

    def delete(self, name: str) -> bool:
        deleted = self.c.delete_one({"_id": name}).deleted_count == 1
        self.flag.release(name)
        return deleted
