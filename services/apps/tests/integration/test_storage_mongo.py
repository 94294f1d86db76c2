from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from services.apps.storage.mongo import INDEXES, mongo_stores
from services.apps.storage.ports import Stores
from services.apps.tests.contract import CertificateContract, LogContract, StorageContract
from shared.mongo import ensure_indexes

pytestmark = pytest.mark.integration


class TestMongoStorage(StorageContract, LogContract, CertificateContract):
    @pytest.fixture
    def stores(self, mongo_client, namespace: str) -> Iterator[Stores]:  # type: ignore[no-untyped-def]
        name = f"{namespace}_apps_{secrets.token_hex(3)}"
        db = mongo_client[name]
        ensure_indexes(db, INDEXES)
        yield mongo_stores(db)
        mongo_client.drop_database(name)
