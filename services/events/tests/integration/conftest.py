from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.database import Database


@pytest.fixture
def events_db(mongo_url: str, namespace: str) -> Iterator[Database]:
    client: MongoClient = MongoClient(mongo_url, tz_aware=True)
    name = f"{namespace}_events_{secrets.token_hex(3)}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()
