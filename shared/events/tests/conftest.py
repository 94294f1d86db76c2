"""Fixtures: the events database, and the recorder on either storage (the real
database or the memory fake: tests taking ``storage`` run on both)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from shared.events import BLOCKS, Block, EventRecorder, EventStorage, MongoEventStorage, documents
from shared.testing.events import MemoryEventStorage


@pytest.fixture
def events_db(mongo_url: str, namespace: str) -> Iterator[Database]:
    client: MongoClient = MongoClient(mongo_url, tz_aware=True)
    name = f"{namespace}_events_{secrets.token_hex(3)}"
    db = client[name]
    try:
        yield db
    finally:
        client.drop_database(name)
        client.close()


class Published(list):
    def __call__(self, key: str, body: dict) -> None:
        self.append((key, body))


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture(params=["mongo", "memory"])
def storage(request: pytest.FixtureRequest) -> EventStorage:
    if request.param == "memory":
        return MemoryEventStorage()
    mongo = MongoEventStorage(request.getfixturevalue("events_db"))
    mongo.ensure_indexes()
    return mongo


@pytest.fixture
def add_block(storage: EventStorage) -> Callable[[Block], None]:
    """Store an active block the way the events service does."""

    def add(block: Block) -> None:
        if isinstance(storage, MemoryEventStorage):
            storage.blocks[block.id] = block
        else:
            assert isinstance(storage, MongoEventStorage)
            storage.db[BLOCKS].insert_one(documents.block_to_doc(block))

    return add


@pytest.fixture
def recorder(storage: EventStorage, published: Published) -> Iterator[EventRecorder]:
    rec = EventRecorder(storage, publish=published, instance="test-1", app_lock_retry=0.5)
    yield rec
    rec.close()


def recorder_on(storage: EventStorage, **kw: Any) -> EventRecorder:
    return EventRecorder(storage, **kw)
