"""In-memory users store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy

from services.auth.domain import errors
from services.auth.domain.models import RoleInstance, User
from services.auth.storage.memory.common import Locked, release, reserve


class MemoryUserStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, User] = {}

    def add(self, user: User) -> None:
        with self.lock:
            if user.email in self.items:
                raise errors.EmailTaken()
            self.items[user.email] = copy.deepcopy(user)

    def get(self, email: str) -> User | None:
        return copy.deepcopy(self.items.get(email))

    def all(self) -> list[User]:
        return [copy.deepcopy(u) for u in self.items.values()]

    def with_role(self, role: str) -> list[User]:
        return [
            copy.deepcopy(u) for u in self.items.values() if any(r.name == role for r in u.roles)
        ]

    def by_apikey(self, apikey_hash: str) -> User | None:
        for u in self.items.values():
            if apikey_hash and u.apikey_hash == apikey_hash:
                return copy.deepcopy(u)
        return None

    def _change(self, email: str, fn) -> bool:  # type: ignore[no-untyped-def]
        with self.lock:
            user = self.items.get(email)
            if user is None:
                return False
            fn(user)
            return True

    def set_password(self, email: str, password_hash: str) -> bool:
        return self._change(email, lambda u: setattr(u, "password", password_hash))

    def set_apikey(self, email: str, apikey_hash: str, seed: str) -> bool:
        def fn(u: User) -> None:
            u.apikey_hash, u.apikey_seed = apikey_hash, seed

        return self._change(email, fn)

    def add_role(self, email: str, inst: RoleInstance) -> bool:
        return self._change(email, lambda u: None if inst in u.roles else u.roles.append(inst))

    def remove_role(self, email: str, inst: RoleInstance) -> bool:
        def fn(u: User) -> None:
            u.roles = [r for r in u.roles if r != inst]

        return self._change(email, fn)

    def remove_role_everywhere(self, role: str) -> None:
        with self.lock:
            for u in self.items.values():
                u.roles = [r for r in u.roles if r.name != role]

    def set_quota_limit(self, email: str, limit: int) -> bool:
        return self._change(email, lambda u: setattr(u.quota, "limit", limit))

    def reserve_app(self, email: str) -> str:
        with self.lock:
            found = self.items.get(email)
            return "missing" if found is None else reserve(found.quota)

    def release_app(self, email: str) -> bool:
        with self.lock:
            found = self.items.get(email)
            return found is not None and release(found.quota)

    def delete(self, email: str) -> bool:
        with self.lock:
            return self.items.pop(email, None) is not None
