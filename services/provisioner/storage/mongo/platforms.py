"""MongoDB storage of platforms and their versions (collection ``platforms``: one
document per platform with its versions embedded, oldest first; a counter allocates
version numbers)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.provisioner.domain import errors
from services.provisioner.domain.models import Platform, PlatformVersion
from services.provisioner.storage.mongo.common import seq, when
from shared.mongo import Db, Index, asc

PLATFORMS = "platforms"

INDEXES = [Index(PLATFORMS, asc("seq"))]


def _version(d: dict[str, Any]) -> PlatformVersion:
    return PlatformVersion(
        version=int(d["version"]),
        images=tuple(d.get("images") or ()),
        dockerfile=d.get("dockerfile", ""),
        created_at=when(d.get("created_at")),
    )


def _load(d: dict[str, Any]) -> Platform:
    return Platform(
        name=d["_id"],
        disabled=bool(d.get("disabled", False)),
        versions=[_version(v) for v in d.get("versions") or []],
    )


class MongoPlatformStore:
    def __init__(self, db: Db) -> None:
        self.c = db[PLATFORMS]

    def add(self, platform: Platform) -> None:
        doc = {
            "_id": platform.name,
            "seq": seq(),
            "disabled": platform.disabled,
            "versions": [],
            "last_version": 0,
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.PlatformExists() from None

    def get(self, name: str) -> Platform | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else _load(d)

    def all(self) -> list[Platform]:
        return [_load(d) for d in self.c.find().sort("seq", ASCENDING)]

    def set_disabled(self, name: str, disabled: bool) -> bool:
        res = self.c.update_one({"_id": name}, {"$set": {"disabled": disabled}})
        return res.matched_count == 1

    def next_version(self, name: str) -> int:
        d = self.c.find_one_and_update(
            {"_id": name},
            {"$inc": {"last_version": 1}},
            projection={"last_version": 1},
            return_document=ReturnDocument.AFTER,
        )
        return 0 if d is None else int(d["last_version"])

    def add_version(self, name: str, version: PlatformVersion) -> bool:
        entry = {
            "version": version.version,
            "images": list(version.images),
            "dockerfile": version.dockerfile,
            "created_at": version.created_at,
        }
        res = self.c.update_one(
            {"_id": name, "versions.version": {"$ne": version.version}},
            {"$push": {"versions": entry}},
        )
        return res.matched_count == 1

    def drop_version(self, name: str, version: int) -> bool:
        res = self.c.update_one({"_id": name}, {"$pull": {"versions": {"version": version}}})
        return res.modified_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1
