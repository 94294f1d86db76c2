from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from services.apps.domain.models import AppQuery
from services.apps.storage.mongo import INDEXES, mongo_stores
from services.apps.storage.mongo.apps import APPS, query_plans
from services.apps.storage.ports import Stores
from services.apps.tests.contract import CertificateContract, LogContract, StorageContract
from shared.mongo import ensure_indexes
from shared.testing.plans import stages

pytestmark = pytest.mark.integration


class TestMongoStorage(StorageContract, LogContract, CertificateContract):
    @pytest.fixture
    def stores(self, mongo_client, namespace: str) -> Iterator[Stores]:  # type: ignore[no-untyped-def]
        name = f"{namespace}_apps_{secrets.token_hex(3)}"
        db = mongo_client[name]
        ensure_indexes(db, INDEXES)
        yield mongo_stores(db)
        mongo_client.drop_database(name)


def test_app_queries_walk_an_index(mongo_client, namespace: str) -> None:  # type: ignore[no-untyped-def]
    """Each query an app list sends is one indexed clause (SecantusDB scans every app
    for an $or, an $and or a second field): a member's teams, apps and pools, or the
    first filter; a caller who sees everything with no filter reads every app."""
    name = f"{namespace}_apps_{secrets.token_hex(3)}"
    db = mongo_client[name]
    try:
        ensure_indexes(db, INDEXES)
        member = AppQuery(everything=False, visible_teams=("red", "blue"), visible_apps=("a1",),
                          visible_pools=("p1",), platform="go", tags=("x",))  # fmt: skip
        queries = [member, AppQuery(team_owner="red", platform="go", pool="p"),
                   AppQuery(tags=("x", "y"), platform_version="")]  # fmt: skip
        for q in queries:
            for where in query_plans(q):
                plan = db[APPS].find(where).explain()["queryPlanner"]["winningPlan"]
                assert "COLLSCAN" not in stages(plan), (q, where)
        assert query_plans(AppQuery()) == [{}]
    finally:
        mongo_client.drop_database(name)
