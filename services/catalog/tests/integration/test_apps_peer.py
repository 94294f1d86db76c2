"""The catalog's fake apps peer passes the same contract as the real apps service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.catalog.tests.peers.apps import FakeApps
from tests.contracts.apps_for_catalog import AppsForCatalogContract

SECRET = b"apps-peer-contract-secret-0123"


class TestFakeAppsPeer(AppsForCatalogContract):
    @pytest.fixture
    def peer(self) -> Iterator[FakeApps]:
        fake = FakeApps(SECRET)
        yield fake
        fake.close()

    def test_the_fake_refuses_a_forged_identity(self, peer: FakeApps) -> None:
        import requests

        resp = requests.get(f"{peer.url}/internal/apps/shop", timeout=5)
        assert resp.status_code == 401
