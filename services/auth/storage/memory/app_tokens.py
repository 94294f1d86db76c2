"""In-memory app tokens (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.auth.domain.models import AppToken
from services.auth.storage.memory.common import Locked


class MemoryAppTokenStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, AppToken] = {}

    def ensure(self, token: AppToken) -> AppToken:
        with self.lock:
            return copy.deepcopy(self.items.setdefault(token.app, copy.deepcopy(token)))

    def get(self, app: str) -> AppToken | None:
        return copy.deepcopy(self.items.get(app))

    def by_hash(self, token_hash: str) -> AppToken | None:
        with self.lock:
            for t in self.items.values():
                if token_hash and t.token_hash == token_hash:
                    return copy.deepcopy(t)
        return None

    def delete(self, app: str) -> AppToken | None:
        with self.lock:
            return self.items.pop(app, None)
