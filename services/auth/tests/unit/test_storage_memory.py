from __future__ import annotations

import pytest

from services.auth.storage.memory import memory_stores
from services.auth.storage.ports import Stores
from services.auth.tests.contract import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()
