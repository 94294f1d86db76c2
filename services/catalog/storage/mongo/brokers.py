"""MongoDB storage of service brokers (``service_brokers``) and their cached catalogs
(``broker_catalogs``). A broker can be renamed (tsuru's update replaces the whole
document, name included), so its key is an ObjectId and its name a unique index."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.catalog.domain import errors
from services.catalog.domain.models import Broker, Catalog
from services.catalog.storage.mongo.common import seq
from services.catalog.storage.mongo.documents import (
    broker_doc,
    broker_from,
    catalog_doc,
    catalog_from,
)
from shared.mongo import Db, Index, asc

BROKERS = "service_brokers"
CATALOGS = "broker_catalogs"

INDEXES = [
    Index(BROKERS, asc("name"), unique=True),
    Index(BROKERS, asc("seq")),
]


class MongoBrokerStore:
    def __init__(self, db: Db) -> None:
        self.c = db[BROKERS]

    def add(self, broker: Broker) -> None:
        try:
            self.c.insert_one({**broker_doc(broker), "seq": seq()})
        except DuplicateKeyError:
            raise errors.BrokerExists() from None

    def get(self, name: str) -> Broker | None:
        d = self.c.find_one({"name": name})
        return None if d is None else broker_from(d)

    def all(self) -> list[Broker]:
        return [broker_from(d) for d in self.c.find().sort("seq", ASCENDING)]

    def replace(self, name: str, broker: Broker) -> bool:
        try:
            res = self.c.update_one({"name": name}, {"$set": broker_doc(broker)})
        except DuplicateKeyError:
            raise errors.BrokerExists() from None
        return res.matched_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"name": name}).deleted_count == 1


class MongoCatalogCache:
    def __init__(self, db: Db) -> None:
        self.c = db[CATALOGS]

    def load(self, broker: str, now: datetime) -> Catalog | None:
        d = self.c.find_one({"_id": broker, "expires": {"$gt": now}})
        return None if d is None else catalog_from(d.get("catalog") or "")

    def save(self, broker: str, catalog: Catalog, expires: datetime) -> None:
        doc = {"catalog": catalog_doc(catalog), "expires": expires}
        self.c.update_one({"_id": broker}, {"$set": doc}, upsert=True)
