"""Test doubles and factories shared by the auth tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import bcrypt

from services.auth.domain.models import Role, RoleInstance, User
from services.auth.operations.ports import Deps
from shared.events import Allowed, Target
from shared.identity import Identity

CHEAP_HASH = bcrypt.hashpw(b"secret123", bcrypt.gensalt(4)).decode()
PASSWORD = "secret123"


@dataclass
class RecordedEvent:
    target: Target
    kind: str
    owner: tuple[str, str]
    allowed: Allowed
    custom_data: Any
    error: str = ""
    done: bool = False


@dataclass
class FakeRecorder:
    """Same ``record`` contract as shared.events.EventRecorder, kept in a list."""

    events: list[RecordedEvent] = field(default_factory=list)

    @contextmanager
    def record(self, **kw: Any) -> Iterator[RecordedEvent]:
        owner = kw["owner"]
        pair = (owner.kind, owner.name) if isinstance(owner, Identity) else tuple(owner)
        evt = RecordedEvent(kw["target"], kw["kind"], pair, kw["allowed"], kw.get("custom_data"))  # type: ignore[arg-type]
        self.events.append(evt)
        try:
            yield evt
        except BaseException as exc:
            evt.error, evt.done = str(exc), True
            raise
        evt.done = True

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def last(self) -> RecordedEvent:
        return self.events[-1]


def add_role(
    deps: Deps, name: str, context: str, *perms: str, events: list[str] | None = None
) -> Role:
    role = Role(name, context, "", list(perms), list(events or []))
    deps.repos.roles.add(role)
    return role


def add_user(
    deps: Deps, email: str, *roles: tuple[str, str], groups: list[str] | None = None
) -> User:
    user = User(
        email=email,
        password=CHEAP_HASH,
        roles=[RoleInstance(n, v) for n, v in roles],
        groups=list(groups or []),
    )
    deps.repos.users.add(user)
    return user
