"""Test doubles and factories shared by the auth tests."""

from __future__ import annotations

import bcrypt

from services.auth.adapters.team_usage import NoTeamUsage
from services.auth.domain.models import Role, RoleInstance, User
from services.auth.operations.deps import Config, Deps
from services.auth.storage.memory import memory_stores
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder

CHEAP_HASH = bcrypt.hashpw(b"secret123", bcrypt.gensalt(4)).decode()
PASSWORD = "secret123"


class RecordingMailer(list[tuple[str, str, str]]):
    """Remembers ``(to, subject, body)`` instead of sending."""

    def send(self, to: str, subject: str, body: str) -> None:
        self.append((to, subject, body))


def fake_deps(config: Config | None = None, team_usage: NoTeamUsage | None = None) -> Deps:
    """The auth bundle on fakes: memory stores, the memory event log, recorders."""
    return Deps(
        stores=memory_stores(),
        recorder=FakeRecorder(),
        publisher=RecordingPublisher(),
        mailer=RecordingMailer(),
        team_usage=team_usage or NoTeamUsage(),
        config=config or Config(hash_cost=4),
    )


def add_role(
    deps: Deps, name: str, context: str, *perms: str, events: list[str] | None = None
) -> Role:
    role = Role(name, context, "", list(perms), list(events or []))
    deps.stores.roles.add(role)
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
    deps.stores.users.add(user)
    return user
