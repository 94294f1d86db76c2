"""MongoDB stores of the catalog context (database ``<namespace>_catalog``)."""

from __future__ import annotations

from services.catalog.storage.mongo import brokers, instances, services
from services.catalog.storage.ports import Stores
from shared.mongo import Db, Index

INDEXES: list[Index] = [*services.INDEXES, *instances.INDEXES, *brokers.INDEXES]


def mongo_stores(db: Db) -> Stores:
    return Stores(
        services=services.MongoServiceStore(db),
        instances=instances.MongoInstanceStore(db),
        brokers=brokers.MongoBrokerStore(db),
        catalogs=brokers.MongoCatalogCache(db),
    )
