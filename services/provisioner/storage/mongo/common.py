"""Helpers shared by the provisioner's Mongo stores."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from shared.mongo import Db

_counter = itertools.count()


def seq() -> float:
    """Insertion-order key: tsuru lists pools, constraints, platforms in storage order."""
    return time.time() + next(_counter) * 1e-9


def to_pairs(mapping: dict[str, Any]) -> list[list[Any]]:
    """A client-given map stored as ``[key, value]`` pairs: keys holding ``.`` or a
    leading ``$`` cannot be Mongo field names."""
    return [[k, v] for k, v in mapping.items()]


def from_pairs(raw: Any) -> dict[str, Any]:
    return {str(k): v for k, v in raw or []}


FLAGS = "flags"


class Flag:
    """A singleton pointer (``{"_id": key, "name": ...}``) such as "the default pool":
    one document, so moving it is one atomic write and two claims cannot both win."""

    def __init__(self, db: Db, key: str) -> None:
        self.c = db[FLAGS]
        self.key = key

    def get(self) -> str | None:
        doc = self.c.find_one({"_id": self.key})
        return None if doc is None or not doc.get("name") else str(doc["name"])

    def claim(self, name: str) -> str | None:
        """Take the flag if nobody holds it; returns the holder (``name`` on success)."""
        try:
            self.c.insert_one({"_id": self.key, "name": name})
            return name
        except DuplicateKeyError:
            # Held, or left empty by a release: an empty holder is free.
            doc = self.c.find_one_and_update(
                {"_id": self.key, "name": ""}, {"$set": {"name": name}}
            )
            return name if doc is not None else self.get()

    def take_from(self, holder: str, name: str) -> bool:
        """Move the flag from ``holder`` (e.g. a pool since deleted) to ``name``."""
        res = self.c.update_one({"_id": self.key, "name": holder}, {"$set": {"name": name}})
        return res.matched_count == 1

    def force(self, name: str) -> str | None:
        """Move the flag to ``name`` whoever holds it; returns the previous holder."""
        doc = self.c.find_one_and_update({"_id": self.key}, {"$set": {"name": name}}, upsert=True)
        return None if doc is None or not doc.get("name") else str(doc["name"])

    def release(self, name: str) -> bool:
        res = self.c.update_one({"_id": self.key, "name": name}, {"$set": {"name": ""}})
        return res.matched_count == 1


class MongoSeedStore:
    """Seeds that ran, one flag document each (``seed:<name>``)."""

    def __init__(self, db: Db) -> None:
        self.c = db[FLAGS]

    def done(self, name: str) -> bool:
        return self.c.count_documents({"_id": f"seed:{name}"}, limit=1) == 1

    def mark(self, name: str) -> None:
        self.c.update_one({"_id": f"seed:{name}"}, {"$set": {"name": name}}, upsert=True)


def when(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (clients may not be ``tz_aware``)."""
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
