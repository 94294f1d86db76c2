"""The events' indexes: what start-up leaves, and what the running events' reads walk."""

from __future__ import annotations

import pytest
from pymongo.database import Database

from shared.events import MongoEventStorage
from shared.events.model import now
from shared.events.storage import EVENTS, INDEXES, LOCKS_INDEX
from shared.testing.plans import stages

pytestmark = pytest.mark.integration


def test_start_up_drops_the_indexes_an_older_version_made(events_db: Database) -> None:
    events = events_db[EVENTS]
    # The running events' beat index (until the cleaner read them through the locks').
    events.create_index(
        [("lockupdatetime", 1)],
        name="running_lockupdatetime",
        partialFilterExpression={"running": True},
    )
    events.create_index([("running", 1), ("lockupdatetime", 1)])
    MongoEventStorage(events_db).ensure_indexes()
    wanted = {ix.index_name() for ix in INDEXES if ix.collection == EVENTS}
    assert set(events.index_information()) == {"_id_", *wanted}
    MongoEventStorage(events_db).ensure_indexes()  # again: nothing left to drop
    assert set(events.index_information()) == {"_id_", *wanted}


def test_the_running_events_are_read_through_the_locks_index(events_db: Database) -> None:
    storage = MongoEventStorage(events_db)
    storage.ensure_indexes()
    events_db[EVENTS].insert_many(
        [{"running": i < 2, "lockkeys": [f"k{i}"], "lockupdatetime": now()} for i in range(20)]
    )
    for sort in (None, [("starttime", -1), ("_id", -1)]):
        cursor = events_db[EVENTS].find({"running": True})
        plan = (cursor.sort(sort) if sort else cursor).explain()["queryPlanner"]["winningPlan"]
        assert "COLLSCAN" not in stages(plan) and LOCKS_INDEX.index_name() in str(plan)
    assert len(storage.stale_events(now())) == 2
