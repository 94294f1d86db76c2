"""MongoDB storage of sessions (collection ``sessions``)."""

from __future__ import annotations

from services.auth.domain.models import Session
from services.auth.storage.mongo.common import utc
from shared.mongo import Db, Index, asc

SESSIONS = "sessions"

INDEXES = [
    Index(SESSIONS, asc("email")),
]


class MongoSessionStore:
    def __init__(self, db: Db) -> None:
        self.c = db[SESSIONS]

    def add(self, session: Session) -> None:
        self.c.insert_one(
            {
                "_id": session.token_hash,
                "email": session.email,
                "created": session.created,
                "expires": session.expires,
            }
        )

    def get(self, token_hash: str) -> Session | None:
        d = self.c.find_one({"_id": token_hash})
        if d is None:
            return None
        return Session(d["_id"], d["email"], utc(d["created"]), utc(d["expires"]))

    def delete(self, token_hash: str) -> bool:
        return self.c.delete_one({"_id": token_hash}).deleted_count == 1

    def delete_for(self, email: str) -> list[str]:
        hashes = [d["_id"] for d in self.c.find({"email": email}, {"_id": 1})]
        if hashes:
            self.c.delete_many({"_id": {"$in": hashes}})
        return hashes
