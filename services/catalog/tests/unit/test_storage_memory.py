from __future__ import annotations

import pytest

from services.catalog.storage.memory import memory_stores
from services.catalog.storage.ports import Stores
from services.catalog.tests.contract import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()
