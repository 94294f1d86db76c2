"""The auth context's objects: plain dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
UNLIMITED = -1


@dataclass(frozen=True)
class RoleInstance:
    """A role assigned to a user, a team token or a group, with its context value."""

    name: str
    value: str = ""


@dataclass
class Quota:
    limit: int = UNLIMITED
    inuse: int = 0


@dataclass
class User:
    email: str
    password: str  # bcrypt hash
    quota: Quota = field(default_factory=Quota)
    roles: list[RoleInstance] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    # API key: only its sha256 (for lookup) and the seed it is derived from (to show it).
    apikey_hash: str = ""
    apikey_seed: str = ""


@dataclass
class Session:
    token_hash: str
    email: str
    created: datetime
    expires: datetime


@dataclass
class ResetToken:
    token_hash: str
    email: str
    created: datetime
    used: bool = False


@dataclass
class Team:
    name: str
    creator: str = ""
    tags: list[str] = field(default_factory=list)
    quota: Quota = field(default_factory=Quota)


@dataclass
class Role:
    name: str
    context: str
    description: str = ""
    schemes: list[str] = field(default_factory=list)  # as written: "*" for the root
    events: list[str] = field(default_factory=list)


@dataclass
class Group:
    name: str
    roles: list[RoleInstance] = field(default_factory=list)


@dataclass
class TeamToken:
    token_id: str
    token_hash: str
    team: str
    creator_email: str
    created_at: datetime
    description: str = ""
    expires_at: datetime = ZERO_TIME
    last_access: datetime = ZERO_TIME
    roles: list[RoleInstance] = field(default_factory=list)

    def expired(self, now: datetime) -> bool:
        return self.expires_at != ZERO_TIME and self.expires_at < now


@dataclass
class AppToken:
    """The token of an app's units (``TSURU_APP_TOKEN``): derived from ``seed`` like an
    API key (domain/secrets.py); only its sha256 is looked up."""

    app: str
    token_hash: str
    seed: str


# tsuru's fixed permissions of an app token, all in the context ``app:<its app>``.
APP_TOKEN_PERMISSIONS = (
    "app.update.unit.register",
    "app.update.log",
    "app.update.unit.status",
    "app.read.deploy",
    "app.read.log",
)


# Default-role events (permissions.md §7.7): event name -> required role context.
ROLE_EVENTS = {"user-create": "global", "team-create": "team"}
