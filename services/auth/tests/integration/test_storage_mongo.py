from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from services.auth.storage.mongo import ensure_indexes, mongo_repos
from services.auth.storage.ports import Repos
from services.auth.tests.contract import StorageContract

pytestmark = pytest.mark.integration


class TestMongoStorage(StorageContract):
    @pytest.fixture
    def repos(self, mongo_client, namespace: str) -> Iterator[Repos]:  # type: ignore[no-untyped-def]
        name = f"{namespace}_auth_{secrets.token_hex(3)}"
        db = mongo_client[name]
        ensure_indexes(db)
        yield mongo_repos(db)
        mongo_client.drop_database(name)
