"""In-memory services store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.catalog.domain import errors
from services.catalog.domain.models import Service
from services.catalog.storage.memory.common import Locked


class MemoryServiceStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Service] = {}

    def add(self, service: Service) -> None:
        with self.lock:
            if service.name in self.items:
                raise errors.ServiceExists()
            self.items[service.name] = copy.deepcopy(service)

    def get(self, name: str) -> Service | None:
        return copy.deepcopy(self.items.get(name))

    def replace_settings(
        self,
        name: str,
        *,
        username: str,
        password: str,
        endpoint: dict[str, str],
        owner_teams: list[str] | None,
    ) -> bool:
        with self.lock:
            s = self.items.get(name)
            if s is None:
                return False
            s.username, s.password, s.endpoint = username, password, dict(endpoint)
            if owner_teams is not None:
                s.owner_teams = list(owner_teams)
            return True

    def set_doc(self, name: str, doc: str) -> bool:
        with self.lock:
            s = self.items.get(name)
            if s is not None:
                s.doc = doc
            return s is not None

    def add_team(self, name: str, team: str) -> bool:
        with self.lock:
            s = self.items.get(name)
            if s is None or team in s.teams:
                return False
            s.teams.append(team)
            return True

    def remove_team(self, name: str, team: str) -> bool:
        with self.lock:
            s = self.items.get(name)
            if s is None or team not in s.teams:
                return False
            s.teams = [t for t in s.teams if t != team]
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None

    def administered(self, teams: list[str] | None, names: list[str] | None) -> list[Service]:
        return [
            copy.deepcopy(s)
            for s in self.items.values()
            if (teams is None and names is None)
            or set(s.owner_teams) & set(teams or [])
            or s.name in (names or [])
        ]

    def consumable(self, teams: list[str] | None, names: list[str] | None) -> list[Service]:
        return [
            copy.deepcopy(s)
            for s in self.items.values()
            if (teams is None and names is None)
            or set(s.teams) & set(teams or [])
            or s.name in (names or [])
            or not s.is_restricted
        ]

    def names(self) -> list[str]:
        return list(self.items)
