from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from services.apps.storage.mongo import deploys as mongo_deploys
from services.apps.storage.mongo import versions as mongo_versions
from services.apps.storage.mongo.deploys import MongoDeployStore
from services.apps.storage.mongo.versions import MongoVersionStore
from services.apps.tests.contract_deploys import DeployStoreContract, VersionStoreContract
from shared.mongo import Db, connect, ensure_indexes

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
