from __future__ import annotations

import pytest

from services.provisioner.storage.memory import memory_stores
from services.provisioner.storage.ports import Stores
from services.provisioner.tests.contract import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()
