"""MongoDB storage of app versions (collection ``versions``, counters in
``version_counters``). One document per version, ``_id`` ``<app>/<version>``: an
app's versions are one indexed equality away, each update touches one document."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.apps.domain.versions import AppVersion
from services.apps.storage.deploy_ports import VersionOutcome
from shared.mongo import Db, Doc, Index, asc

VERSIONS = "versions"
COUNTERS = "version_counters"

INDEXES = [
    Index(VERSIONS, asc("app", "version")),
    Index(VERSIONS, asc("app", "deploy_successful")),
]


def version_id(app: str, version: int) -> str:
    return f"{app}/{version}"


def to_doc(v: AppVersion) -> Doc:
    return {
        "_id": version_id(v.app, v.version),
        "app": v.app,
        "version": v.version,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "event": v.event,
        "kind": v.kind,
        "build_image": v.build_image,
        "deploy_image": v.deploy_image,
        "build_tag": v.build_tag,
        # Procfile names and tsuru.yaml keys may hold dots: stored as pairs.
        "processes": [[k, c] for k, c in v.processes.items()],
        "custom_data": _pairs(v.custom_data),
        "deploy_successful": v.deploy_successful,
        "build_successful": v.build_successful,
        "disabled": v.disabled,
        "disabled_reason": v.disabled_reason,
        "marked_to_removal": v.marked_to_removal,
    }


def _pairs(data: Any) -> Any:
    """Mappings as ``[[key, value], ...]`` all the way down (keys may hold ``.`` or
    start with ``$``, which the database refuses as field names)."""
    if isinstance(data, dict):
        return {"__pairs__": [[str(k), _pairs(v)] for k, v in data.items()]}
    if isinstance(data, list):
        return [_pairs(v) for v in data]
    return data


def _unpairs(data: Any) -> Any:
    if isinstance(data, dict) and "__pairs__" in data:
        return {k: _unpairs(v) for k, v in data["__pairs__"]}
    if isinstance(data, list):
        return [_unpairs(v) for v in data]
    return data


def from_doc(d: Doc) -> AppVersion:
    custom = _unpairs(d.get("custom_data"))
    return AppVersion(
        app=d["app"],
        version=int(d["version"]),
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        event=d.get("event", ""),
        kind=d.get("kind", ""),
        build_image=d.get("build_image", ""),
        deploy_image=d.get("deploy_image", ""),
        build_tag=d.get("build_tag", ""),
        processes={str(k): str(c) for k, c in d.get("processes") or []},
        custom_data=custom if isinstance(custom, dict) else {},
        deploy_successful=bool(d.get("deploy_successful")),
        build_successful=bool(d.get("build_successful")),
        disabled=bool(d.get("disabled")),
        disabled_reason=d.get("disabled_reason", ""),
        marked_to_removal=bool(d.get("marked_to_removal")),
    )


class MongoVersionStore:
    def __init__(self, db: Db) -> None:
        self.c = db[VERSIONS]
        self.counters = db[COUNTERS]

    def allocate(self, app: str) -> int:
        # No upsert: concurrent upserts of one _id are not atomic on every server.
        while True:
            doc = self.counters.find_one_and_update(
                {"_id": app}, {"$inc": {"last": 1}}, return_document=ReturnDocument.AFTER
            )
            if doc is not None:
                return int(doc["last"])
            try:
                self.counters.insert_one({"_id": app, "last": 1})
                return 1
            except DuplicateKeyError:
                continue  # another allocation created it: increment that one

    def add(self, version: AppVersion) -> None:
        self.c.replace_one({"_id": version_id(version.app, version.version)}, to_doc(version), True)

    def get(self, app: str, version: int) -> AppVersion | None:
        doc = self.c.find_one({"_id": version_id(app, version)})
        return from_doc(doc) if doc else None

    def of_app(self, app: str) -> list[AppVersion]:
        return [from_doc(d) for d in self.c.find({"app": app}).sort("version", 1)]

    def finish(self, app: str, version: int, outcome: VersionOutcome, when: datetime) -> bool:
        changes: Doc = {
            "build_image": outcome.build_image,
            "deploy_image": outcome.deploy_image,
            "build_successful": outcome.build_successful,
            "deploy_successful": outcome.deploy_successful,
            "updated_at": when,
        }
        if outcome.processes is not None:
            changes["processes"] = [[k, c] for k, c in outcome.processes.items()]
        if outcome.custom_data is not None:
            changes["custom_data"] = _pairs(dict(outcome.custom_data))
        return (
            self.c.update_one({"_id": version_id(app, version)}, {"$set": changes}).matched_count
            == 1
        )

    def set_disabled(
        self, app: str, version: int, disabled: bool, reason: str, when: datetime
    ) -> bool:
        result = self.c.update_one(
            {"_id": version_id(app, version)},
            {"$set": {"disabled": disabled, "disabled_reason": reason, "updated_at": when}},
        )
        return result.matched_count == 1

    def mark_to_removal(self, app: str, version: int, when: datetime, marked: bool = True) -> bool:
        result = self.c.update_one(
            {"_id": version_id(app, version)},
            {"$set": {"marked_to_removal": marked, "updated_at": when}},
        )
        return result.matched_count == 1

    def delete(self, app: str, version: int) -> bool:
        return self.c.delete_one({"_id": version_id(app, version)}).deleted_count == 1

    def delete_app(self, app: str) -> None:
        self.c.delete_many({"app": app})
        self.counters.delete_one({"_id": app})

    def rollback_images(self, apps: Iterable[str]) -> set[str]:
        names = sorted(set(apps))
        if not names:
            return set()
        found = self.c.find(
            {"app": {"$in": names}, "deploy_successful": True},
            {"deploy_image": 1},
        )
        return {d["deploy_image"] for d in found if d.get("deploy_image")}
