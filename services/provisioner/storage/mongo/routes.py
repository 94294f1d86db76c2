"""MongoDB storage of the route table (collection ``routes``; its ``seq`` counter in
``counters``)."""

from __future__ import annotations

from pymongo import ASCENDING, ReturnDocument

from services.provisioner.domain.routes import Route
from services.provisioner.storage.mongo.runtime_docs import route_doc, route_of
from shared.mongo import Db, Index

ROUTES = "routes"
COUNTERS = "counters"
_SEQ = "routes"

INDEXES: list[Index] = []  # read by _id, or whole


class MongoRouteStore:
    def __init__(self, db: Db) -> None:
        self.c = db[ROUTES]
        self.counters = db[COUNTERS]

    def _next(self) -> int:
        d = self.counters.find_one_and_update(
            {"_id": _SEQ}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert d is not None  # upserted
        return int(d["seq"])

    def get(self, app: str) -> Route | None:
        d = self.c.find_one({"_id": app})
        return None if d is None else route_of(d)

    def all(self) -> list[Route]:
        return [route_of(d) for d in self.c.find().sort("_id", ASCENDING)]

    def put(self, route: Route) -> Route | None:
        if route.same_as(self.get(route.app)):
            return None
        stored = Route(route.app, route.hosts, route.backends, route.asleep, self._next())
        self.c.replace_one({"_id": route.app}, route_doc(stored), upsert=True)
        return stored

    def delete(self, app: str) -> int | None:
        if self.c.delete_one({"_id": app}).deleted_count != 1:
            return None
        return self._next()

    def seq(self) -> int:
        d = self.counters.find_one({"_id": _SEQ})
        return int(d["seq"]) if d else 0
