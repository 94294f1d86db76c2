"""MongoDB storage of reset tokens (collection ``reset_tokens``)."""

from __future__ import annotations

from services.auth.domain.models import ResetToken
from services.auth.storage.mongo.common import utc
from shared.mongo import Db

RESETS = "reset_tokens"


class MongoResetTokenStore:
    def __init__(self, db: Db) -> None:
        self.c = db[RESETS]

    def add(self, token: ResetToken) -> None:
        self.c.insert_one(
            {
                "_id": token.token_hash,
                "email": token.email,
                "created": token.created,
                "used": token.used,
            }
        )

    def get(self, token_hash: str) -> ResetToken | None:
        d = self.c.find_one({"_id": token_hash})
        if d is None:
            return None
        return ResetToken(d["_id"], d["email"], utc(d["created"]), bool(d.get("used")))

    def use(self, token_hash: str) -> bool:
        res = self.c.update_one({"_id": token_hash, "used": False}, {"$set": {"used": True}})
        return res.modified_count == 1
