"""MongoDB storage of roles (collection ``roles``)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.auth.domain import errors
from services.auth.domain.models import Role
from services.auth.storage.mongo.common import seq
from shared.mongo import Db, Index, asc

ROLES = "roles"

INDEXES = [
    Index(ROLES, asc("seq")),
    Index(ROLES, asc("events")),
]


class MongoRoleStore:
    def __init__(self, db: Db) -> None:
        self.c = db[ROLES]

    @staticmethod
    def _load(d: dict[str, Any] | None) -> Role | None:
        if d is None:
            return None
        return Role(
            name=d["_id"],
            context=d.get("context", ""),
            description=d.get("description", ""),
            schemes=list(d.get("schemes") or []),
            events=list(d.get("events") or []),
        )

    def add(self, role: Role) -> None:
        doc = {
            "_id": role.name,
            "seq": seq(),
            "context": role.context,
            "description": role.description,
            "schemes": list(role.schemes),
            "events": list(role.events),
        }
        try:
            self.c.insert_one(doc)
        except DuplicateKeyError:
            raise errors.RoleExists() from None

    def get(self, name: str) -> Role | None:
        return self._load(self.c.find_one({"_id": name}))

    def all(self) -> list[Role]:
        return [self._load(d) for d in self.c.find().sort("seq", ASCENDING)]  # type: ignore[misc]

    def get_many(self, names: list[str]) -> dict[str, Role]:
        if not names:
            return {}
        out = {}
        for d in self.c.find({"_id": {"$in": list(set(names))}}):
            role = self._load(d)
            assert role is not None
            out[role.name] = role
        return out

    def _set(self, name: str, update: dict[str, Any]) -> bool:
        return self.c.update_one({"_id": name}, update).matched_count == 1

    def update(self, name: str, *, context: str, description: str) -> bool:
        return self._set(name, {"$set": {"context": context, "description": description}})

    def add_schemes(self, name: str, schemes: list[str]) -> bool:
        return self._set(name, {"$addToSet": {"schemes": {"$each": list(dict.fromkeys(schemes))}}})

    def remove_scheme(self, name: str, scheme: str) -> bool:
        return self._set(name, {"$pull": {"schemes": scheme}})

    def add_event(self, name: str, event: str) -> bool:
        return self._set(name, {"$addToSet": {"events": event}})

    def remove_event(self, name: str, event: str) -> bool:
        return self._set(name, {"$pull": {"events": event}})

    def with_event(self, event: str) -> list[Role]:
        cur = self.c.find({"events": event}).sort("seq", ASCENDING)
        return [self._load(d) for d in cur]  # type: ignore[misc]

    def delete(self, name: str) -> bool:
        return self.c.delete_one({"_id": name}).deleted_count == 1
