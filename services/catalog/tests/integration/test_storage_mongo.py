from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from services.catalog.storage.mongo import INDEXES, mongo_stores
from services.catalog.storage.ports import Stores
from services.catalog.tests.contract import StorageContract
from shared.mongo import ensure_indexes
from shared.testing.plans import stages

pytestmark = pytest.mark.integration


class TestMongoStorage(StorageContract):
    @pytest.fixture
    def stores(self, mongo_client, namespace: str) -> Iterator[Stores]:  # type: ignore[no-untyped-def]
        name = f"{namespace}_catalog_{secrets.token_hex(3)}"
        db = mongo_client[name]
        ensure_indexes(db, INDEXES)
        yield mongo_stores(db)
        mongo_client.drop_database(name)


def test_instance_queries_walk_an_index(mongo_client, namespace: str) -> None:  # type: ignore[no-untyped-def]
    """A member's instances, an app's, a service's and the pending ones are read on an
    index (SecantusDB scans every instance for an $or, a second field or an $exists)."""
    name = f"{namespace}_catalog_{secrets.token_hex(3)}"
    db = mongo_client[name]
    try:
        ensure_indexes(db, INDEXES)
        stores = mongo_stores(db)
        sent: list[dict[str, Any]] = []
        col = stores.instances.c  # type: ignore[attr-defined]

        class Seen:
            def find(self, where: dict[str, Any], *args: Any, **kw: Any) -> Any:
                sent.append(where)
                return col.find(where, *args, **kw)

        stores.instances.c = Seen()  # type: ignore[attr-defined]
        stores.instances.find(teams=["red"], names=["i1"], service="mysql")
        stores.instances.find(teams=["red"], names=[], app="shop")
        stores.instances.find(service="redis")
        stores.instances.with_pending()
        stores.instances.count_for_service("redis")
        assert len(sent) == 6
        for where in sent:
            plan = col.find(where).explain()["queryPlanner"]["winningPlan"]
            assert "COLLSCAN" not in stages(plan), where
    finally:
        mongo_client.drop_database(name)
