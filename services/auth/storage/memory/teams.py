"""In-memory teams store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.auth.domain import errors
from services.auth.domain.models import Team
from services.auth.storage.memory.common import Locked, release, reserve


class MemoryTeamStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Team] = {}

    def add(self, team: Team) -> None:
        with self.lock:
            if team.name in self.items:
                raise errors.TeamExists()
            self.items[team.name] = copy.deepcopy(team)

    def get(self, name: str) -> Team | None:
        return copy.deepcopy(self.items.get(name))

    def all(self) -> list[Team]:
        return [copy.deepcopy(t) for t in self.items.values()]

    def names(self, limit: int = 0) -> list[str]:
        names = list(self.items)
        return names[:limit] if limit else names

    def set_tags(self, name: str, tags: list[str]) -> bool:
        with self.lock:
            team = self.items.get(name)
            if team is None:
                return False
            team.tags = list(tags)
            return True

    def set_quota_limit(self, name: str, limit: int) -> bool:
        with self.lock:
            team = self.items.get(name)
            if team is None:
                return False
            team.quota.limit = limit
            return True

    def reserve_app(self, name: str) -> str:
        with self.lock:
            found = self.items.get(name)
            return "missing" if found is None else reserve(found.quota)

    def release_app(self, name: str) -> bool:
        with self.lock:
            found = self.items.get(name)
            return found is not None and release(found.quota)

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None
