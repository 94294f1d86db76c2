from __future__ import annotations

import pytest

from services.apps.storage.memory import memory_stores
from services.apps.storage.ports import Stores
from services.apps.tests.contract import CertificateContract, LogContract, StorageContract


class TestMemoryStorage(StorageContract, LogContract, CertificateContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()
