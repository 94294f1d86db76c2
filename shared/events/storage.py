"""Collections of the events database touched by every writer, and their indexes.

Indexes cover every query of the recorder, the cleaner and the events API (the
database used in tests is slow on unindexed finds). ``create_index`` is idempotent.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from shared.events.model import BLOCKS, EVENTS, LOCKS
from shared.mongo import Db

_INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    EVENTS: [
        [("starttime", DESCENDING)],
        [("endtime", DESCENDING)],
        [("running", ASCENDING), ("lockupdatetime", ASCENDING)],
        [("kind.name", ASCENDING), ("starttime", DESCENDING)],
        [("target.type", ASCENDING), ("target.value", ASCENDING)],
        [("target.value", ASCENDING)],
        [("extratargets.target.type", ASCENDING)],
        [("extratargets.target.value", ASCENDING)],
        [("owner.name", ASCENDING)],
    ],
    LOCKS: [
        [("event", ASCENDING)],
        [("updated", ASCENDING)],
    ],
    BLOCKS: [
        [("active", ASCENDING), ("starttime", DESCENDING)],
        [("starttime", DESCENDING)],
    ],
}


def ensure_indexes(db: Db) -> None:
    for collection, indexes in _INDEXES.items():
        for keys in indexes:
            db[collection].create_index(keys)
