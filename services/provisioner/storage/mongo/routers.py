"""MongoDB storage of dynamic routers (collection ``dynamic_routers``). Their config is
a client-given JSON object, stored as JSON text: its keys need not be Mongo field
names."""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.models import DynamicRouter
from shared.mongo import Db, Index

ROUTERS = "dynamic_routers"

INDEXES: list[Index] = []  # by _id only


def _doc(router: DynamicRouter) -> dict[str, Any]:
    return {
        "_id": router.name,
        "type": router.type,
        "readiness_gates": list(router.readiness_gates),
        "config": json.dumps(router.config),
    }


def _load(d: dict[str, Any]) -> DynamicRouter:
    config = json.loads(d.get("config") or "{}")
    return DynamicRouter(
        name=d["_id"],
        type=d.get("type", ""),
        readiness_gates=tuple(d.get("readiness_gates") or ()),
        config=config if isinstance(config, dict) else {},
    )


class MongoRouterStore:
    def __init__(self, db: Db) -> None:
        self.c = db[ROUTERS]

    def add(self, router: DynamicRouter) -> None:
        try:
            self.c.insert_one(_doc(router))
        except DuplicateKeyError:
            raise errors.DynamicRouterExists() from None

    def get(self, name: str) -> DynamicRouter | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _load(d)

    def all(self) -> list[DynamicRouter]:
        return [_load(d) for d in self.c.find().sort("_id", ASCENDING)]

    def replace(self, router: DynamicRouter) -> bool:
        return self.c.replace_one({"_id": router.name}, _doc(router)).matched_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1
