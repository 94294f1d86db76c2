from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from shared.events import EventRecorder


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


@pytest.fixture
def recorder(events_db: Database, published: Published) -> Iterator[EventRecorder]:
    rec = EventRecorder(events_db, publish=published, instance="test-1", app_lock_retry=0.5)
    rec.ensure_indexes()
    yield rec
    rec.close()
