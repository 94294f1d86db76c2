from __future__ import annotations

import pytest

from services.provisioner.storage.memory.runtime import memory_runtime_stores
from services.provisioner.storage.runtime_ports import RuntimeStores
from services.provisioner.tests.contract_runtime import RuntimeStoresContract


class TestMemoryRuntimeStores(RuntimeStoresContract):
    @pytest.fixture
    def stores(self) -> RuntimeStores:
        return memory_runtime_stores()
