"""In-memory sessions store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.auth.domain.models import Session
from services.auth.storage.memory.common import Locked


class MemorySessionStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Session] = {}

    def add(self, session: Session) -> None:
        self.items[session.token_hash] = copy.deepcopy(session)

    def get(self, token_hash: str) -> Session | None:
        return copy.deepcopy(self.items.get(token_hash))

    def delete(self, token_hash: str) -> bool:
        with self.lock:
            return self.items.pop(token_hash, None) is not None

    def delete_for(self, email: str) -> list[str]:
        with self.lock:
            gone = [h for h, s in self.items.items() if s.email == email]
            for h in gone:
                del self.items[h]
            return gone
