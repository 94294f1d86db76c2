"""In-memory resets store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.auth.domain.models import ResetToken
from services.auth.storage.memory.common import Locked


class MemoryResetTokenStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, ResetToken] = {}

    def add(self, token: ResetToken) -> None:
        self.items[token.token_hash] = copy.deepcopy(token)

    def get(self, token_hash: str) -> ResetToken | None:
        return copy.deepcopy(self.items.get(token_hash))

    def use(self, token_hash: str) -> bool:
        with self.lock:
            tok = self.items.get(token_hash)
            if tok is None or tok.used:
                return False
            tok.used = True
            return True
