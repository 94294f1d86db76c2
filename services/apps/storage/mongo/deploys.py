"""MongoDB storage of deploy records (collection ``deploys``, counters in
``deploy_counters``).

Each record gets two sequence numbers when stored: ``seq`` over every record and
``app_seq`` over its app's (one deploy per app runs at a time, so an app's records
are numbered in start order). "Newest first" is ``seq`` descending. A page is read as
narrow ranges of those numbers, widened until it is full: SecantusDB walks every
index entry a sort or range matches before a limit applies, so each query matches
little more than the page:

* every app (a global grant): ``seq`` in ``(top - n, top]``, ``n`` the records wanted
  (gaps left by removed apps widen it);
* one app: ``app_seq`` in the same way, on the ``(app, app_seq)`` index;
* a few apps (a team's): each app's own newest records, merged;
* many apps: ``seq`` ranges, the apps checked on the records read, widened until
  enough matched (an ``$in`` of apps beside the range is a collection scan on
  SecantusDB: its planner uses an index only when it holds every field queried).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import datetime

from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.apps.domain.deploys import DeployRecord
from services.apps.storage.deploy_ports import DeployQuery
from shared.mongo import Db, Doc, Index

DEPLOYS = "deploys"
COUNTERS = "deploy_counters"
ALL = "\x00all"  # the counter over every record (no app name starts with NUL)

INDEXES = [
    Index(DEPLOYS, [("seq", DESCENDING)], unique=True),
    Index(DEPLOYS, [("app", 1), ("app_seq", DESCENDING)]),
]

# Up to this many apps a page merges each app's newest records; past it, it filters
# ranges of the global sequence.
MERGE_APPS = 25


def to_doc(r: DeployRecord, seq: int, app_seq: int) -> Doc:
    return {
        "_id": r.id,
        "seq": seq,
        "app": r.app,
        "app_seq": app_seq,
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
    def __init__(self, db: Db) -> None:
        self.c = db[DEPLOYS]
        self.counters = db[COUNTERS]

    def _next(self, key: str) -> int:
        # No upsert: concurrent upserts of one _id are not atomic on every server.
        while True:
            doc = self.counters.find_one_and_update(
                {"_id": key}, {"$inc": {"last": 1}}, return_document=ReturnDocument.AFTER
            )
            if doc is not None:
                return int(doc["last"])
            try:
                self.counters.insert_one({"_id": key, "last": 1})
                return 1
            except DuplicateKeyError:
                continue

    def _top(self, key: str) -> int:
        doc = self.counters.find_one({"_id": key})
        return int(doc["last"]) if doc else 0

    def add(self, record: DeployRecord) -> None:
        if self.c.find_one({"_id": record.id}, {"_id": 1}) is not None:
            return  # stored already (a retried start)
        doc = to_doc(record, self._next(ALL), self._next(record.app))
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            pass  # a concurrent retry of the same start stored it

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
        self.counters.delete_one({"_id": app})

    # -- pages ------------------------------------------------------------------------

    def page(self, query: DeployQuery, skip: int, limit: int | None) -> list[DeployRecord]:
        want = None if limit is None else skip + limit
        if query.apps is None:
            docs = list(self._newest({}, "seq", self._top(ALL), want))
        else:
            apps = sorted(set(query.apps))
            if len(apps) <= MERGE_APPS:
                tops = {
                    d["_id"]: int(d["last"]) for d in self.counters.find({"_id": {"$in": apps}})
                }
                per_app = [self._newest({"app": a}, "app_seq", tops.get(a, 0), want) for a in apps]
                merged = heapq.merge(*per_app, key=lambda d: -int(d["seq"]))
                docs = list(merged)[:want] if want is not None else list(merged)
            else:
                wanted = set(apps)
                mine = lambda d: d["app"] in wanted  # noqa: E731
                docs = list(self._newest({}, "seq", self._top(ALL), want, keep=mine))
        records = [from_doc(d) for d in docs]
        return records[skip:want]

    def _newest(
        self,
        match: Doc,
        field: str,
        top: int,
        want: int | None,
        keep: Callable[[Doc], bool] | None = None,
    ) -> Iterator[Doc]:
        """Documents matching ``match`` (and ``keep``) by ``field`` descending from
        ``top``: ranges of ``field`` (each one indexed query) widened until ``want``
        are found."""
        if top <= 0 or want == 0:
            return
        if want is None:
            yield from self._range(match, field, 0, top, keep)
            return
        found = 0
        high, width = top, max(want, 1)
        while high > 0 and found < want:
            low = max(high - width, 0)
            for doc in self._range(match, field, low, high, keep):
                yield doc
                found += 1
            high, width = low, width * 2

    def _range(
        self, match: Doc, field: str, low: int, high: int, keep: Callable[[Doc], bool] | None
    ) -> Iterator[Doc]:
        """``low < field <= high``, descending."""
        cursor = self.c.find({**match, field: {"$gt": low, "$lte": high}}).sort(field, DESCENDING)
        return (doc for doc in cursor if keep is None or keep(doc))
