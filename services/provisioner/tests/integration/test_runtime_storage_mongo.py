from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from services.provisioner.storage.mongo.runtime import RUNTIME_INDEXES, mongo_runtime_stores
from services.provisioner.storage.runtime_ports import RuntimeStores
from services.provisioner.tests.contract_runtime import RuntimeStoresContract
from shared.mongo import connect, ensure_indexes

pytestmark = pytest.mark.integration


class TestMongoRuntimeStores(RuntimeStoresContract):
    @pytest.fixture
    def stores(self, mongo_url: str, namespace: str) -> Iterator[RuntimeStores]:
        client = connect(mongo_url)  # tz-aware, as the services' clients
        name = f"{namespace}_prov_{secrets.token_hex(3)}"
        db = client[name]
        ensure_indexes(db, RUNTIME_INDEXES)
        yield mongo_runtime_stores(db)
        client.drop_database(name)
        client.close()
