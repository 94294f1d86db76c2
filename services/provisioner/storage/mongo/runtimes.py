"""MongoDB storage of app runtimes, the desired state (collection ``runtimes``)."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.storage.mongo.runtime_docs import runtime_doc, runtime_of
from shared.mongo import Db, Index

RUNTIMES = "runtimes"

INDEXES: list[Index] = []  # read by _id only


class MongoRuntimeStore:
    def __init__(self, db: Db) -> None:
        self.c = db[RUNTIMES]

    def get(self, app: str) -> AppRuntime | None:
        d = self.c.find_one({"_id": app})
        return None if d is None else runtime_of(d)

    def get_many(self, apps: Iterable[str]) -> dict[str, AppRuntime]:
        names = list(dict.fromkeys(apps))
        if not names:
            return {}
        return {d["_id"]: runtime_of(d) for d in self.c.find({"_id": {"$in": names}})}

    def create(self, runtime: AppRuntime) -> bool:
        try:
            self.c.insert_one(runtime_doc(runtime))
        except DuplicateKeyError:
            return False
        return True

    def save(self, runtime: AppRuntime) -> bool:
        doc = runtime_doc(runtime)
        doc["revision"] = runtime.revision + 1
        found = self.c.replace_one({"_id": runtime.app, "revision": runtime.revision}, doc)
        if found.matched_count != 1:
            return False
        runtime.revision += 1
        return True

    def delete(self, app: str) -> bool:
        return self.c.delete_one({"_id": app}).deleted_count == 1

    def all(self) -> list[AppRuntime]:
        return [runtime_of(d) for d in self.c.find().sort("_id", ASCENDING)]

    def names(self) -> list[str]:
        return [d["_id"] for d in self.c.find({}, {"_id": 1}).sort("_id", ASCENDING)]
