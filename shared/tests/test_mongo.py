"""Integration: the client factory and index creation against the real database."""

from __future__ import annotations

import threading

import pytest
from pymongo.errors import DuplicateKeyError

from shared.mongo import Index, asc, connect, ensure_indexes

pytestmark = pytest.mark.integration


def test_ensure_indexes_is_idempotent_and_enforces_uniqueness(mongo_url, namespace):
    client = connect(mongo_url)
    db = client[f"{namespace}_mongo_test"]
    indexes = [Index("teams", asc("name"), unique=True), Index("events", asc("kind", "start"))]
    ensure_indexes(db, indexes)
    ensure_indexes(db, indexes)  # second start-up: nothing changes, nothing fails
    names = set(db.teams.index_information())
    assert "name_1" in names
    assert "kind_1_start_1" in db.events.index_information()
    db.teams.insert_one({"name": "t1"})
    with pytest.raises(DuplicateKeyError):
        db.teams.insert_one({"name": "t1"})
    client.drop_database(db.name)
    client.close()


def test_concurrent_ensure_indexes_at_start_up(mongo_url, namespace):
    client = connect(mongo_url)
    db = client[f"{namespace}_mongo_race"]
    errors: list[BaseException] = []

    def start() -> None:
        try:
            ensure_indexes(db, [Index("locks", asc("target"), unique=True)])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert "target_1" in db.locks.index_information()
    client.drop_database(db.name)
    client.close()
