from __future__ import annotations

import pytest

from services.auth.storage.memory import memory_repos
from services.auth.storage.ports import Repos
from services.auth.tests.contract import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def repos(self) -> Repos:
        return memory_repos()
