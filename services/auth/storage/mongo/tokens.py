"""MongoDB storage of team tokens (collection ``team_tokens``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.auth.domain import errors
from services.auth.domain.models import RoleInstance, TeamToken
from services.auth.storage.mongo.common import role_instance_doc, role_instances, seq, utc
from shared.mongo import Db, Index, asc

TEAM_TOKENS = "team_tokens"

INDEXES = [
    Index(TEAM_TOKENS, asc("token_hash"), unique=True),
    Index(TEAM_TOKENS, asc("team")),
    Index(TEAM_TOKENS, asc("seq")),
]


class MongoTeamTokenStore:
    def __init__(self, db: Db) -> None:
        self.c = db[TEAM_TOKENS]

    @staticmethod
    def _load(d: dict[str, Any] | None) -> TeamToken | None:
        if d is None:
            return None
        return TeamToken(
            token_id=d["_id"],
            token_hash=d["token_hash"],
            team=d["team"],
            creator_email=d.get("creator_email", ""),
            created_at=utc(d["created_at"]),
            description=d.get("description", ""),
            expires_at=utc(d["expires_at"]),
            last_access=utc(d["last_access"]),
            roles=role_instances(d.get("roles")),
        )

    def add(self, token: TeamToken) -> None:
        doc = {
            "_id": token.token_id,
            "seq": seq(),
            "token_hash": token.token_hash,
            "team": token.team,
            "creator_email": token.creator_email,
            "created_at": token.created_at,
            "description": token.description,
            "expires_at": token.expires_at,
            "last_access": token.last_access,
            "roles": [role_instance_doc(r) for r in token.roles],
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.TeamTokenExists() from None

    def get(self, token_id: str) -> TeamToken | None:
        return self._load(self.c.find_one({"_id": token_id}))

    def by_hash(self, token_hash: str) -> TeamToken | None:
        return self._load(self.c.find_one({"token_hash": token_hash}))

    def all(self, teams: list[str] | None = None) -> list[TeamToken]:
        query: dict[str, Any] = {} if teams is None else {"team": {"$in": list(teams)}}
        return [self._load(d) for d in self.c.find(query).sort("seq", ASCENDING)]  # type: ignore[misc]

    def update(
        self,
        token_id: str,
        *,
        description: str | None = None,
        expires_at: datetime | None = None,
        token_hash: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {}
        if description is not None:
            fields["description"] = description
        if expires_at is not None:
            fields["expires_at"] = expires_at
        if token_hash is not None:
            fields["token_hash"] = token_hash
        if not fields:
            return self.c.count_documents({"_id": token_id}) == 1
        return self.c.update_one({"_id": token_id}, {"$set": fields}).matched_count == 1

    def touch(self, token_id: str, when: datetime) -> None:
        self.c.update_one({"_id": token_id}, {"$set": {"last_access": when}})

    def add_role(self, token_id: str, inst: RoleInstance) -> bool:
        res = self.c.update_one({"_id": token_id}, {"$push": {"roles": role_instance_doc(inst)}})
        return res.matched_count == 1

    def remove_role(self, token_id: str, inst: RoleInstance) -> bool:
        res = self.c.update_one({"_id": token_id}, {"$pull": {"roles": role_instance_doc(inst)}})
        return res.matched_count == 1

    def delete(self, token_id: str) -> bool:
        return self.c.delete_one({"_id": token_id}).deleted_count == 1
