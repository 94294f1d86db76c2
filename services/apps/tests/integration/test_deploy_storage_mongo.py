from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from services.apps.storage.deploy_ports import DeployQuery
from services.apps.storage.mongo import deploys as mongo_deploys
from services.apps.storage.mongo import versions as mongo_versions
from services.apps.storage.mongo.deploys import MongoDeployStore
from services.apps.storage.mongo.versions import MongoVersionStore
from services.apps.tests.contract_deploys import (
    DeployStoreContract,
    VersionStoreContract,
    a_record,
    hex_id,
)
from shared.mongo import Db, connect, ensure_indexes
from shared.testing.plans import stages

pytestmark = pytest.mark.integration


@pytest.fixture
def db(mongo_url: str, namespace: str) -> Iterator[Db]:
    client = connect(mongo_url)  # tz-aware, as the service's
    name = f"{namespace}_apps_{secrets.token_hex(3)}"
    database = client[name]
    ensure_indexes(database, [*mongo_versions.INDEXES, *mongo_deploys.INDEXES])
    yield database
    client.drop_database(name)
    client.close()


class TestMongoVersions(VersionStoreContract):
    @pytest.fixture
    def versions(self, db: Db) -> MongoVersionStore:
        return MongoVersionStore(db)


class TestMongoDeploys(DeployStoreContract):
    @pytest.fixture
    def deploys(self, db: Db) -> MongoDeployStore:
        return MongoDeployStore(db)


def test_deploy_pages_walk_an_index(db: Db) -> None:
    """Every query of a page (every app, one app, a few apps, many apps) is served by an
    index: an $in of apps beside a range was a collection scan on SecantusDB."""
    store = MongoDeployStore(db)
    for i in range(60):
        store.add(a_record(hex_id(i + 1), app=f"a{i % 30}"))
    sent: list[dict[str, Any]] = []
    col = store.c

    class Seen:
        def find(self, where: dict[str, Any], *args: Any, **kw: Any) -> Any:
            sent.append(where)
            return col.find(where, *args, **kw)

    store.c = Seen()  # type: ignore[assignment]
    many = tuple(f"a{i}" for i in range(0, 30))
    for query in (DeployQuery(), DeployQuery(apps=("a1",)), DeployQuery(apps=many[:3]),
                  DeployQuery(apps=many)):  # fmt: skip
        assert store.page(query, 0, 5)
    assert sent
    for where in sent:
        plan = col.find(where).explain()["queryPlanner"]["winningPlan"]
        assert "COLLSCAN" not in stages(plan), where
