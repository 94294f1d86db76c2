"""MongoDB storage of users (collection ``users``)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.auth.domain import errors
from services.auth.domain.models import Quota, RoleInstance, User
from services.auth.storage.mongo.common import (
    release_quota,
    reserve_quota,
    role_instance_doc,
    role_instances,
    seq,
)
from shared.mongo import Db, Index, asc

USERS = "users"

INDEXES = [
    Index(USERS, asc("seq")),
    Index(USERS, asc("roles.name")),
    Index(USERS, asc("apikey_hash")),
]


class MongoUserStore:
    def __init__(self, db: Db) -> None:
        self.c = db[USERS]

    @staticmethod
    def _load(d: dict[str, Any] | None) -> User | None:
        if d is None:
            return None
        q = d.get("quota") or {}
        return User(
            email=d["_id"],
            password=d.get("password", ""),
            quota=Quota(int(q.get("limit", -1)), int(q.get("inuse", 0))),
            roles=role_instances(d.get("roles")),
            groups=list(d.get("groups") or []),
            apikey_hash=d.get("apikey_hash") or "",
            apikey_seed=d.get("apikey_seed") or "",
        )

    def add(self, user: User) -> None:
        doc = {
            "_id": user.email,
            "seq": seq(),
            "password": user.password,
            "quota": {"limit": user.quota.limit, "inuse": user.quota.inuse},
            "roles": [role_instance_doc(r) for r in user.roles],
            "groups": list(user.groups),
            "apikey_hash": user.apikey_hash or None,
            "apikey_seed": user.apikey_seed,
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.EmailTaken() from None

    def get(self, email: str) -> User | None:
        return self._load(self.c.find_one({"_id": email}))

    def all(self) -> list[User]:
        return [self._load(d) for d in self.c.find().sort("seq", ASCENDING)]  # type: ignore[misc]

    def with_role(self, role: str) -> list[User]:
        cur = self.c.find({"roles.name": role}).sort("seq", ASCENDING)
        return [self._load(d) for d in cur]  # type: ignore[misc]

    def by_apikey(self, apikey_hash: str) -> User | None:
        if not apikey_hash:
            return None
        return self._load(self.c.find_one({"apikey_hash": apikey_hash}))

    def _set(self, email: str, update: dict[str, Any]) -> bool:
        return self.c.update_one({"_id": email}, update).matched_count == 1

    def set_password(self, email: str, password_hash: str) -> bool:
        return self._set(email, {"$set": {"password": password_hash}})

    def set_apikey(self, email: str, apikey_hash: str, seed: str) -> bool:
        return self._set(email, {"$set": {"apikey_hash": apikey_hash, "apikey_seed": seed}})

    def add_role(self, email: str, inst: RoleInstance) -> bool:
        return self._set(email, {"$addToSet": {"roles": role_instance_doc(inst)}})

    def remove_role(self, email: str, inst: RoleInstance) -> bool:
        return self._set(email, {"$pull": {"roles": role_instance_doc(inst)}})

    def remove_role_everywhere(self, role: str) -> None:
        self.c.update_many({"roles.name": role}, {"$pull": {"roles": {"name": role}}})

    def set_quota_limit(self, email: str, limit: int) -> bool:
        return self._set(email, {"$set": {"quota.limit": limit}})

    def reserve_app(self, email: str) -> str:
        return reserve_quota(self.c, email)

    def release_app(self, email: str) -> bool:
        return release_quota(self.c, email)

    def delete(self, email: str) -> bool:
        return self.c.delete_one({"_id": email}).deleted_count == 1
