"""MongoDB storage of app tokens (collection ``app_tokens``, ``_id`` the app name)."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.auth.domain.models import AppToken
from shared.mongo import Db, Index, asc

APP_TOKENS = "app_tokens"

INDEXES = [Index(APP_TOKENS, asc("token_hash"), unique=True)]


def _load(d: dict[str, Any] | None) -> AppToken | None:
    if d is None:
        return None
    return AppToken(app=d["_id"], token_hash=d["token_hash"], seed=d["seed"])


class MongoAppTokenStore:
    def __init__(self, db: Db) -> None:
        self.c = db[APP_TOKENS]

    def ensure(self, token: AppToken) -> AppToken:
        insert = {"token_hash": token.token_hash, "seed": token.seed}
        for _ in range(3):
            try:
                d = self.c.find_one_and_update(
                    {"_id": token.app},
                    {"$setOnInsert": insert},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:  # a concurrent upsert inserted it first
                continue
            found = _load(d)
            if found is not None:
                return found
        found = self.get(token.app)
        if found is None:
            raise RuntimeError(f"app token of {token.app!r} could not be stored")
        return found

    def get(self, app: str) -> AppToken | None:
        return _load(self.c.find_one({"_id": app}))

    def by_hash(self, token_hash: str) -> AppToken | None:
        if not token_hash:
            return None
        return _load(self.c.find_one({"token_hash": token_hash}))

    def delete(self, app: str) -> AppToken | None:
        return _load(self.c.find_one_and_delete({"_id": app}))
