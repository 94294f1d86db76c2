"""MongoDB storage of unit autoscale settings (collection ``autoscale``, one document
per app and process)."""

from __future__ import annotations

from pymongo import ASCENDING

from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.storage.mongo.runtime_docs import autoscale_of
from shared.mongo import Db, Index, asc

AUTOSCALE = "autoscale"

INDEXES = [Index(AUTOSCALE, asc("app", "process"), unique=True)]


class MongoAutoscaleStore:
    def __init__(self, db: Db) -> None:
        self.c = db[AUTOSCALE]

    def get(self, app: str) -> list[AutoscaleSpec]:
        return [autoscale_of(d) for d in self.c.find({"app": app}).sort("process", ASCENDING)]

    def put(self, app: str, spec: AutoscaleSpec) -> None:
        doc = {"app": app, **spec.to_json()}
        self.c.replace_one({"app": app, "process": spec.process}, doc, upsert=True)

    def remove(self, app: str, process: str) -> bool:
        return self.c.delete_one({"app": app, "process": process}).deleted_count == 1

    def all(self) -> dict[str, list[AutoscaleSpec]]:
        found: dict[str, list[AutoscaleSpec]] = {}
        for d in self.c.find().sort([("app", ASCENDING), ("process", ASCENDING)]):
            found.setdefault(d["app"], []).append(autoscale_of(d))
        return found

    def delete_app(self, app: str) -> None:
        self.c.delete_many({"app": app})
