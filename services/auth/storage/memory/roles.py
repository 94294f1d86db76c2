"""In-memory roles store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.auth.domain import errors
from services.auth.domain.models import Role
from services.auth.storage.memory.common import Locked


class MemoryRoleStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Role] = {}

    def add(self, role: Role) -> None:
        with self.lock:
            if role.name in self.items:
                raise errors.RoleExists()
            self.items[role.name] = copy.deepcopy(role)

    def get(self, name: str) -> Role | None:
        return copy.deepcopy(self.items.get(name))

    def all(self) -> list[Role]:
        return [copy.deepcopy(r) for r in self.items.values()]

    def get_many(self, names: list[str]) -> dict[str, Role]:
        return {n: copy.deepcopy(self.items[n]) for n in names if n in self.items}

    def _change(self, name: str, fn) -> bool:  # type: ignore[no-untyped-def]
        with self.lock:
            role = self.items.get(name)
            if role is None:
                return False
            fn(role)
            return True

    def update(self, name: str, *, context: str, description: str) -> bool:
        def fn(r: Role) -> None:
            r.context, r.description = context, description

        return self._change(name, fn)

    def add_schemes(self, name: str, schemes: list[str]) -> bool:
        def fn(r: Role) -> None:
            r.schemes.extend(s for s in dict.fromkeys(schemes) if s not in r.schemes)

        return self._change(name, fn)

    def remove_scheme(self, name: str, scheme: str) -> bool:
        def fn(r: Role) -> None:
            r.schemes = [s for s in r.schemes if s != scheme]

        return self._change(name, fn)

    def add_event(self, name: str, event: str) -> bool:
        return self._change(name, lambda r: None if event in r.events else r.events.append(event))

    def remove_event(self, name: str, event: str) -> bool:
        def fn(r: Role) -> None:
            r.events = [e for e in r.events if e != event]

        return self._change(name, fn)

    def with_event(self, event: str) -> list[Role]:
        return [copy.deepcopy(r) for r in self.items.values() if event in r.events]

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None
