"""MongoDB storage of node container configs (``node_containers``, one document per
(name, pool); the config is a client-given Docker object, stored as JSON text) and
docker log configs (``log_configs``, one per pool)."""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING

from services.provisioner.domain.infra import LogConfig
from services.provisioner.storage.mongo.common import from_pairs, seq, to_pairs
from shared.mongo import Db, Index, asc

CONTAINERS = "node_containers"
LOGS = "log_configs"

INDEXES = [Index(CONTAINERS, asc("seq")), Index(CONTAINERS, asc("name", "seq"))]


def _key(name: str, pool: str) -> str:
    return json.dumps([name, pool])


class MongoNodeContainerStore:
    def __init__(self, db: Db) -> None:
        self.c = db[CONTAINERS]

    def all(self) -> dict[str, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for d in self.c.find().sort("seq", ASCENDING):
            out.setdefault(d["name"], {})[d["pool"]] = json.loads(d["config"])
        return out

    def get(self, name: str) -> dict[str, dict[str, Any]]:
        cur = self.c.find({"name": name}).sort("seq", ASCENDING)
        return {d["pool"]: json.loads(d["config"]) for d in cur}

    def put(self, name: str, pool: str, config: dict[str, Any]) -> None:
        self.c.update_one(
            {"_id": _key(name, pool)},
            {"$set": {"config": json.dumps(config)},
             "$setOnInsert": {"name": name, "pool": pool, "seq": seq()}},
            upsert=True,
        )  # fmt: skip

    def delete(self, name: str, pool: str) -> bool:
        return self.c.delete_one({"_id": _key(name, pool)}).deleted_count == 1


class MongoLogConfigStore:
    def __init__(self, db: Db) -> None:
        self.c = db[LOGS]

    def all(self) -> dict[str, LogConfig]:
        return {
            d["_id"]: LogConfig(d.get("driver", ""), from_pairs(d.get("opts")))
            for d in self.c.find().sort("_id", ASCENDING)
        }

    def put(self, pool: str, config: LogConfig) -> None:
        self.c.replace_one(
            {"_id": pool}, {"driver": config.driver, "opts": to_pairs(config.opts)}, upsert=True
        )
