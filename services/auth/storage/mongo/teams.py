"""MongoDB storage of teams (collection ``teams``)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.auth.domain import errors
from services.auth.domain.models import Quota, Team
from services.auth.storage.mongo.common import release_quota, reserve_quota, seq
from shared.mongo import Db, Index, asc

TEAMS = "teams"

INDEXES = [
    Index(TEAMS, asc("seq")),
]


class MongoTeamStore:
    def __init__(self, db: Db) -> None:
        self.c = db[TEAMS]

    @staticmethod
    def _load(d: dict[str, Any] | None) -> Team | None:
        if d is None:
            return None
        q = d.get("quota") or {}
        return Team(
            name=d["_id"],
            creator=d.get("creator", ""),
            tags=list(d.get("tags") or []),
            quota=Quota(int(q.get("limit", -1)), int(q.get("inuse", 0))),
        )

    def add(self, team: Team) -> None:
        doc = {
            "_id": team.name,
            "seq": seq(),
            "creator": team.creator,
            "tags": list(team.tags),
            "quota": {"limit": team.quota.limit, "inuse": team.quota.inuse},
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.TeamExists() from None

    def get(self, name: str) -> Team | None:
        return self._load(self.c.find_one({"_id": name}))

    def all(self) -> list[Team]:
        return [self._load(d) for d in self.c.find().sort("seq", ASCENDING)]  # type: ignore[misc]

    def names(self, limit: int = 0) -> list[str]:
        cur = self.c.find({}, {"_id": 1}).sort("seq", ASCENDING)
        if limit:
            cur = cur.limit(limit)
        return [d["_id"] for d in cur]

    def set_tags(self, name: str, tags: list[str]) -> bool:
        return self.c.update_one({"_id": name}, {"$set": {"tags": list(tags)}}).matched_count == 1

    def set_quota_limit(self, name: str, limit: int) -> bool:
        res = self.c.update_one({"_id": name}, {"$set": {"quota.limit": limit}})
        return res.matched_count == 1

    def reserve_app(self, name: str) -> str:
        return reserve_quota(self.c, name)

    def release_app(self, name: str) -> bool:
        return release_quota(self.c, name)

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1
