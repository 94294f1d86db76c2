"""In-memory fake of the storage ports, held to the same contract tests as Mongo."""

from __future__ import annotations

import copy
import threading
from datetime import datetime

from services.auth.domain import errors
from services.auth.domain.models import (
    ResetToken,
    Role,
    RoleInstance,
    Session,
    Team,
    TeamToken,
    User,
)
from services.auth.storage.ports import Repos


class _Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()


class MemoryUsers(_Store):
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

    def delete(self, email: str) -> bool:
        with self.lock:
            return self.items.pop(email, None) is not None


class MemorySessions(_Store):
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


class MemoryResets(_Store):
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


class MemoryTeams(_Store):
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

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None


class MemoryRoles(_Store):
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


class MemoryGroups(_Store):
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


class MemoryTokens(_Store):
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


def memory_repos() -> Repos:
    return Repos(
        users=MemoryUsers(),
        sessions=MemorySessions(),
        resets=MemoryResets(),
        teams=MemoryTeams(),
        roles=MemoryRoles(),
        groups=MemoryGroups(),
        tokens=MemoryTokens(),
    )
