"""MongoDB storage of deploy records (collection ``deploys``; ``deploys_meta`` holds
the oldest record's time).

A page is read newest first in time bands: ``[now - w, now)``, then the band below
it with ``w`` doubled, until the page is full or the band passes the oldest record.
Each band is one indexed query (``ts`` alone, or ``app`` then ``ts``) that walks only
the records inside it, so a page costs what it shows and what it skips, not the
collection (SecantusDB walks every index entry a sort or range matches before a
limit applies).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING, ReturnDocument

from services.apps.domain.deploys import DeployRecord
from services.apps.storage.deploy_ports import DeployQuery
from shared.mongo import Db, Doc, Index

DEPLOYS = "deploys"
META = "deploys_meta"
_OLDEST = "oldest"

INDEXES = [
    Index(DEPLOYS, [("ts", DESCENDING), ("_id", DESCENDING)]),
    Index(DEPLOYS, [("app", 1), ("ts", DESCENDING), ("_id", DESCENDING)]),
]

# The first band looked at; each next one is twice as wide.
FIRST_BAND = timedelta(hours=1)
# ``$in`` lists of app names are sent in chunks this big.
IN_CHUNK = 500


def to_doc(r: DeployRecord) -> Doc:
    return {
        "_id": r.id,
        "app": r.app,
        "ts": r.timestamp,
        "kind": r.kind,
        "user": r.user,
        "origin": r.origin,
        "commit": r.commit,
        "message": r.message,
        "version": r.version,
        "image": r.image,
        "error": r.error,
        "finished": r.finished,
    }


def from_doc(d: Doc) -> DeployRecord:
    return DeployRecord(
        id=d["_id"],
        app=d["app"],
        timestamp=d["ts"],
        kind=d.get("kind", ""),
        user=d.get("user", ""),
        origin=d.get("origin", ""),
        commit=d.get("commit", ""),
        message=d.get("message", ""),
        version=int(d.get("version") or 0),
        image=d.get("image", ""),
        error=d.get("error", ""),
        finished=d.get("finished"),
    )


class MongoDeployStore:
    def __init__(self, db: Db, *, now: Any = None) -> None:
        self.c = db[DEPLOYS]
        self.meta = db[META]
        self._now = now or (lambda: datetime.now(UTC))

    def add(self, record: DeployRecord) -> None:
        self.c.replace_one({"_id": record.id}, to_doc(record), upsert=True)
        self.meta.update_one({"_id": _OLDEST}, {"$min": {"ts": record.timestamp}}, upsert=True)

    def get(self, deploy_id: str) -> DeployRecord | None:
        doc = self.c.find_one({"_id": deploy_id})
        return from_doc(doc) if doc else None

    def finish(
        self, deploy_id: str, when: datetime, error: str, image: str, version: int
    ) -> DeployRecord | None:
        changes: Doc = {"finished": when, "error": error, "image": image}
        if version:
            changes["version"] = version
        doc = self.c.find_one_and_update(
            {"_id": deploy_id, "finished": None},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        return from_doc(doc) if doc else None

    def running(self, app: str) -> list[DeployRecord]:
        return [from_doc(d) for d in self.c.find({"app": app, "finished": None})]

    def delete_app(self, app: str) -> None:
        self.c.delete_many({"app": app})

    # -- pages ------------------------------------------------------------------------

    def _oldest(self) -> datetime | None:
        doc = self.meta.find_one({"_id": _OLDEST})
        return doc.get("ts") if doc else None

    def _band(
        self, query: DeployQuery, low: datetime, high: datetime | None, limit: int
    ) -> list[Doc]:
        ts: Doc = {"$gte": low}
        if high is not None:
            ts["$lt"] = high
        filters: list[Doc]
        if query.apps is None:
            filters = [{"ts": ts}]
        else:
            names = sorted(set(query.apps))
            filters = [
                {"app": {"$in": names[i : i + IN_CHUNK]}, "ts": ts}
                for i in range(0, len(names), IN_CHUNK)
            ]
        found: list[Doc] = []
        for f in filters:
            cursor = self.c.find(f).sort([("ts", DESCENDING), ("_id", DESCENDING)])
            found.extend(cursor.limit(limit) if limit else cursor)
        found.sort(key=lambda d: (d["ts"], d["_id"]), reverse=True)
        return found[:limit] if limit else found

    def page(self, query: DeployQuery, skip: int, limit: int | None) -> list[DeployRecord]:
        if query.apps is not None and not query.apps:
            return []
        oldest = self._oldest()
        if oldest is None:
            return []
        want = skip + limit if limit is not None else 0  # 0: everything
        found: list[Doc] = []
        high: datetime | None = None  # the first band is open above (clocks differ)
        width = FIRST_BAND
        now = self._now()
        while True:
            low = (high or now) - width
            if low <= oldest:
                low = oldest
            found.extend(self._band(query, low, high, want - len(found) if want else 0))
            if (want and len(found) >= want) or low <= oldest:
                break
            high, width = low, width * 2
        records = [from_doc(d) for d in found]
        return records[skip : skip + limit] if limit is not None else records[skip:]
