"""In-memory groups store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

from services.auth.domain.models import RoleInstance
from services.auth.storage.memory.common import Locked


class MemoryGroupStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, list[RoleInstance]] = {}

    def add_role(self, group: str, inst: RoleInstance) -> None:
        with self.lock:
            roles = self.items.setdefault(group, [])
            if inst not in roles:
                roles.append(inst)

    def remove_role(self, group: str, inst: RoleInstance) -> None:
        with self.lock:
            self.items[group] = [r for r in self.items.get(group, []) if r != inst]

    def roles_of(self, groups: list[str]) -> dict[str, list[RoleInstance]]:
        return {g: list(self.items[g]) for g in groups if g in self.items}
