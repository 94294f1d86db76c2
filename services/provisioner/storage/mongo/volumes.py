"""MongoDB storage of volumes (collection ``volumes``) and their binds (collection
``volume_binds``, one document per (app, mountpoint, volume): a duplicate bind is a
DuplicateKeyError)."""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.infra import BindID, Volume, VolumeBind
from services.provisioner.storage.mongo.common import from_pairs, seq, to_pairs
from shared.mongo import Db, Index, asc

VOLUMES = "volumes"
BINDS = "volume_binds"

INDEXES = [
    Index(VOLUMES, asc("seq")),
    Index(BINDS, asc("volume", "seq")),
    Index(BINDS, asc("app", "seq")),
]


def _doc(v: Volume) -> dict[str, Any]:
    return {
        "_id": v.name,
        "pool": v.pool,
        "team_owner": v.team_owner,
        "plan": v.plan,
        "plan_opts": to_pairs(v.plan_opts),
        "opts": None if v.opts is None else to_pairs(v.opts),
        "status": v.status,
    }


def _load(d: dict[str, Any]) -> Volume:
    opts = d.get("opts")
    return Volume(
        name=d["_id"],
        pool=d.get("pool", ""),
        team_owner=d.get("team_owner", ""),
        plan=d.get("plan", ""),
        plan_opts=from_pairs(d.get("plan_opts")),
        opts=None if opts is None else from_pairs(opts),
        status=d.get("status", ""),
    )


def _bind_key(b: BindID) -> str:
    # JSON of the three parts: unambiguous whatever characters they hold.
    return json.dumps([b.app, b.mountpoint, b.volume])


def _bind(d: dict[str, Any]) -> VolumeBind:
    return VolumeBind(BindID(d["app"], d["mountpoint"], d["volume"]), bool(d.get("readonly")))


class MongoVolumeStore:
    def __init__(self, db: Db) -> None:
        self.c = db[VOLUMES]
        self.b = db[BINDS]

    def add(self, volume: Volume) -> None:
        try:
            self.c.insert_one({**_doc(volume), "seq": seq()})
        except DuplicateKeyError:
            raise errors.VolumeExists() from None

    def get(self, name: str) -> Volume | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _load(d)

    def all(self) -> list[Volume]:
        return [_load(d) for d in self.c.find().sort("seq", ASCENDING)]

    def replace(self, volume: Volume) -> bool:
        res = self.c.update_one({"_id": volume.name}, {"$set": _doc(volume)})
        return res.matched_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1

    def bind(self, bind: VolumeBind) -> None:
        i = bind.id
        doc = {"_id": _bind_key(i), "app": i.app, "mountpoint": i.mountpoint,
               "volume": i.volume, "readonly": bind.readonly, "seq": seq()}  # fmt: skip
        try:
            self.b.insert_one(doc)
        except DuplicateKeyError:
            raise errors.VolumeAlreadyBound() from None

    def unbind(self, bind_id: BindID) -> bool:
        return self.b.delete_one({"_id": _bind_key(bind_id)}).deleted_count == 1

    def binds(self, volume: str) -> list[VolumeBind]:
        return [_bind(d) for d in self.b.find({"volume": volume}).sort("seq", ASCENDING)]

    def binds_of_app(self, app: str) -> list[VolumeBind]:
        return [_bind(d) for d in self.b.find({"app": app}).sort("seq", ASCENDING)]
