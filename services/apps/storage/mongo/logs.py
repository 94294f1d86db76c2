"""MongoDB storage of app logs: bounded chunks (``log_chunks``) and a head per app
(``log_heads``).

Appending reserves the lines' positions with one atomic increment of the head, then
pushes them into the chunk(s) those positions fall in (``CHUNK`` lines each, ``_id``
``<app>:<chunk>``): concurrent writers never overfill a chunk. Reading the last N lines
fetches the newest chunks by ``_id``, newest first, until N lines matched: a page costs
its own size whatever the log's length. Chunks older than ``max_lines`` are dropped as
new ones begin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from itertools import groupby
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.apps.domain.models import LogLine
from shared.mongo import Db, Index, asc

HEADS = "log_heads"
CHUNKS = "log_chunks"
CHUNK = 100
READ_BATCH = 8  # chunks per read while walking back
MAX_MESSAGE = 64 * 1024  # characters of one line kept (a chunk stays far below 16 MiB)

INDEXES = [Index(CHUNKS, asc("app", "chunk"))]


def _doc(line: LogLine) -> dict[str, Any]:
    return {"q": line.seq, "d": line.date, "m": line.message[:MAX_MESSAGE], "s": line.source,
            "u": line.unit}  # fmt: skip


def _line(d: dict[str, Any]) -> LogLine:
    return LogLine(date=d["d"], message=d["m"], source=d["s"], unit=d["u"], seq=int(d["q"]))


class MongoLogStore:
    def __init__(self, db: Db, max_lines: int = 10_000) -> None:
        self.heads = db[HEADS]
        self.chunks = db[CHUNKS]
        self.max_lines = max(max_lines, 1)

    def append(self, app: str, lines: list[LogLine]) -> list[LogLine]:
        if not lines:
            return []
        start = self._reserve(app, len(lines))
        stamped = [replace(line, seq=start + i) for i, line in enumerate(lines)]
        for chunk, group in groupby(stamped, key=lambda line: line.seq // CHUNK):
            self._push(app, chunk, [_doc(line) for line in group])
        if start % CHUNK == 0 or start // CHUNK != stamped[-1].seq // CHUNK:
            oldest = stamped[-1].seq // CHUNK - self.max_lines // CHUNK
            if oldest > 0:
                self.chunks.delete_many({"app": app, "chunk": {"$lt": oldest}})
        return stamped

    def _reserve(self, app: str, n: int) -> int:
        """Positions ``start .. start+n-1``, reserved with one atomic increment. The
        head is made first on its own: racing upserts of one new document may each
        miss it (a duplicate key, or no document returned)."""
        for _ in range(10):
            try:
                self.heads.update_one({"_id": app}, {"$setOnInsert": {"next": 0}}, upsert=True)
            except DuplicateKeyError:
                pass  # made by a racing writer meanwhile
            head = self.heads.find_one_and_update(
                {"_id": app}, {"$inc": {"next": n}}, return_document=ReturnDocument.AFTER
            )
            if head is not None:
                return int(head["next"]) - n
        raise RuntimeError(f"the log head of {app!r} could not be reserved")

    def _push(self, app: str, chunk: int, docs: list[dict[str, Any]]) -> None:
        update = {"$push": {"lines": {"$each": docs}}, "$setOnInsert": {"app": app, "chunk": chunk}}
        try:
            self.chunks.update_one({"_id": f"{app}:{chunk}"}, update, upsert=True)
        except DuplicateKeyError:  # a concurrent writer created the chunk first
            self.chunks.update_one({"_id": f"{app}:{chunk}"}, update, upsert=True)

    def tail(
        self, app: str, limit: int, match: Callable[[LogLine], bool] | None = None
    ) -> list[LogLine]:
        head = self.heads.find_one({"_id": app})
        if head is None or int(head.get("next", 0)) == 0:
            return []
        end = int(head["next"])
        first_kept = max(0, end - self.max_lines)
        chunk = (end - 1) // CHUNK
        lowest = first_kept // CHUNK
        found: list[LogLine] = []
        # Unfiltered, the last ``limit`` lines lie in known chunks: read just those.
        batch = READ_BATCH
        if limit > 0 and match is None:
            batch = chunk - max(end - limit, 0) // CHUNK + 1
        while chunk >= lowest and (limit <= 0 or len(found) < limit):
            ids = [f"{app}:{c}" for c in range(chunk, max(chunk - batch, lowest - 1), -1)]
            docs = {d["_id"]: d for d in self.chunks.find({"_id": {"$in": ids}})}
            for key in ids:
                stored = [_line(x) for x in (docs.get(key) or {}).get("lines") or []]
                for line in sorted(stored, key=lambda x: x.seq, reverse=True):
                    if line.seq < first_kept or (match is not None and not match(line)):
                        continue
                    found.append(line)
                    if 0 < limit <= len(found):
                        break
                if 0 < limit <= len(found):
                    break
            chunk -= batch
            batch = READ_BATCH
        found.reverse()
        return found

    def drop(self, app: str) -> None:
        self.heads.delete_one({"_id": app})
        self.chunks.delete_many({"app": app})
