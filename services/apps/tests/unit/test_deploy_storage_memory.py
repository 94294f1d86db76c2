from __future__ import annotations

import pytest

from services.apps.storage.memory.deploys import MemoryDeployStore, MemoryVersionStore
from services.apps.tests.contract_deploys import DeployStoreContract, VersionStoreContract


class TestMemoryVersions(VersionStoreContract):
    @pytest.fixture
    def versions(self) -> MemoryVersionStore:
        return MemoryVersionStore()


class TestMemoryDeploys(DeployStoreContract):
    @pytest.fixture
    def deploys(self) -> MemoryDeployStore:
        return MemoryDeployStore()
