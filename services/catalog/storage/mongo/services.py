"""MongoDB storage of services (collection ``services``)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.catalog.domain import errors
from services.catalog.domain.models import Service
from services.catalog.storage.mongo.common import seq
from services.catalog.storage.mongo.documents import service_doc, service_from
from shared.mongo import Db, Index, asc

SERVICES = "services"

INDEXES = [
    Index(SERVICES, asc("seq")),
    Index(SERVICES, asc("owner_teams")),
    Index(SERVICES, asc("teams")),
]


class MongoServiceStore:
    def __init__(self, db: Db) -> None:
        self.c = db[SERVICES]

    def add(self, service: Service) -> None:
        try:
            self.c.insert_one({**service_doc(service), "seq": seq()})
        except DuplicateKeyError:
            raise errors.ServiceExists() from None

    def get(self, name: str) -> Service | None:
        d = self.c.find_one({"_id": name})
        return None if d is None else service_from(d)

    def replace_settings(
        self,
        name: str,
        *,
        username: str,
        password: str,
        endpoint: dict[str, str],
        owner_teams: list[str] | None,
    ) -> bool:
        fields: dict[str, Any] = {"username": username, "password": password, "endpoint": endpoint}
        if owner_teams is not None:
            fields["owner_teams"] = owner_teams
        return self.c.update_one({"_id": name}, {"$set": fields}).matched_count == 1

    def set_doc(self, name: str, doc: str) -> bool:
        return self.c.update_one({"_id": name}, {"$set": {"doc": doc}}).matched_count == 1

    def add_team(self, name: str, team: str) -> bool:
        res = self.c.update_one({"_id": name, "teams": {"$ne": team}}, {"$push": {"teams": team}})
        return res.modified_count == 1

    def remove_team(self, name: str, team: str) -> bool:
        res = self.c.update_one({"_id": name, "teams": team}, {"$pull": {"teams": team}})
        return res.modified_count == 1

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1

    def _find(self, query: dict[str, Any]) -> list[Service]:
        return [service_from(d) for d in self.c.find(query).sort("seq", ASCENDING)]

    def administered(self, teams: list[str] | None, names: list[str] | None) -> list[Service]:
        if teams is None and names is None:
            return self._find({})
        return self._find(
            {"$or": [{"owner_teams": {"$in": teams or []}}, {"_id": {"$in": names or []}}]}
        )

    def consumable(self, teams: list[str] | None, names: list[str] | None) -> list[Service]:
        if teams is None and names is None:
            return self._find({})
        return self._find(
            {
                "$or": [
                    {"teams": {"$in": teams or []}},
                    {"_id": {"$in": names or []}},
                    {"is_restricted": False},
                ]
            }
        )

    def names(self) -> list[str]:
        return [d["_id"] for d in self.c.find({}, {"_id": 1}).sort("seq", ASCENDING)]
