"""MongoDB storage of clusters (collection ``clusters``). Certificates are bytes;
custom data and kube configs are client-given maps, stored as pairs / JSON text."""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.infra import Cluster
from services.provisioner.storage.mongo.common import from_pairs, seq, to_pairs
from shared.mongo import Db, Index, asc

CLUSTERS = "clusters"

INDEXES = [Index(CLUSTERS, asc("seq")), Index(CLUSTERS, asc("provisioner", "seq"))]


def _doc(c: Cluster) -> dict[str, Any]:
    return {
        "_id": c.name,
        "provisioner": c.provisioner,
        "addresses": list(c.addresses),
        "cacert": c.cacert,
        "clientcert": c.clientcert,
        "clientkey": c.clientkey,
        "pools": list(c.pools),
        "custom_data": to_pairs(c.custom_data),
        "default": c.default,
        "local": c.local,
        "kube_config": None if c.kube_config is None else json.dumps(c.kube_config),
        "http_proxy": c.http_proxy,
    }


def _load(d: dict[str, Any]) -> Cluster:
    kube = d.get("kube_config")
    return Cluster(
        name=d["_id"],
        provisioner=d.get("provisioner", ""),
        addresses=list(d.get("addresses") or []),
        cacert=bytes(d.get("cacert") or b""),
        clientcert=bytes(d.get("clientcert") or b""),
        clientkey=bytes(d.get("clientkey") or b""),
        pools=list(d.get("pools") or []),
        custom_data=from_pairs(d.get("custom_data")),
        default=bool(d.get("default", False)),
        local=bool(d.get("local", False)),
        kube_config=None if kube is None else json.loads(kube),
        http_proxy=d.get("http_proxy", ""),
    )


class MongoClusterStore:
    def __init__(self, db: Db) -> None:
        self.c = db[CLUSTERS]

    def add(self, cluster: Cluster) -> None:
        try:
            self.c.insert_one({**_doc(cluster), "seq": seq()})
        except DuplicateKeyError:
            raise errors.ClusterExists() from None

    def get(self, name: str) -> Cluster | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _load(d)

    def all(self) -> list[Cluster]:
        return [_load(d) for d in self.c.find().sort("seq", ASCENDING)]

    def replace(self, cluster: Cluster) -> bool:
        res = self.c.update_one({"_id": cluster.name}, {"$set": _doc(cluster)})
        return res.matched_count == 1

    def take_pools(self, name: str, provisioner: str, pools: list[str]) -> None:
        if pools:
            self.c.update_many(
                {"_id": {"$ne": name}, "provisioner": provisioner},
                {"$pull": {"pools": {"$in": list(pools)}}},
            )

    def clear_default(self, name: str, provisioner: str) -> None:
        self.c.update_many(
            {"_id": {"$ne": name}, "provisioner": provisioner}, {"$set": {"default": False}}
        )

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1
