from __future__ import annotations

import pytest

from services.provisioner.storage.memory import memory_stores
from services.provisioner.storage.ports import Stores
from services.provisioner.tests.contract import StorageContract
from services.provisioner.tests.contract_infra import InfraContract


class TestMemoryStorage(StorageContract, InfraContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()
