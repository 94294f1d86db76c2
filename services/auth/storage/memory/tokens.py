"""In-memory tokens store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy
from datetime import datetime

from services.auth.domain import errors
from services.auth.domain.models import RoleInstance, TeamToken
from services.auth.storage.memory.common import Locked


class MemoryTeamTokenStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, TeamToken] = {}

    def add(self, token: TeamToken) -> None:
        with self.lock:
            if token.token_id in self.items:
                raise errors.TeamTokenExists()
            self.items[token.token_id] = copy.deepcopy(token)

    def get(self, token_id: str) -> TeamToken | None:
        return copy.deepcopy(self.items.get(token_id))

    def by_hash(self, token_hash: str) -> TeamToken | None:
        for t in self.items.values():
            if t.token_hash == token_hash:
                return copy.deepcopy(t)
        return None

    def all(self, teams: list[str] | None = None) -> list[TeamToken]:
        return [copy.deepcopy(t) for t in self.items.values() if teams is None or t.team in teams]

    def update(
        self,
        token_id: str,
        *,
        description: str | None = None,
        expires_at: datetime | None = None,
        token_hash: str | None = None,
    ) -> bool:
        with self.lock:
            tok = self.items.get(token_id)
            if tok is None:
                return False
            if description is not None:
                tok.description = description
            if expires_at is not None:
                tok.expires_at = expires_at
            if token_hash is not None:
                tok.token_hash = token_hash
            return True

    def touch(self, token_id: str, when: datetime) -> None:
        with self.lock:
            if token_id in self.items:
                self.items[token_id].last_access = when

    def add_role(self, token_id: str, inst: RoleInstance) -> bool:
        with self.lock:
            tok = self.items.get(token_id)
            if tok is None:
                return False
            tok.roles.append(inst)
            return True

    def remove_role(self, token_id: str, inst: RoleInstance) -> bool:
        with self.lock:
            tok = self.items.get(token_id)
            if tok is None:
                return False
            tok.roles = [r for r in tok.roles if r != inst]
            return True

    def delete(self, token_id: str) -> bool:
        with self.lock:
            return self.items.pop(token_id, None) is not None
