"""The collaborators of the auth use cases, passed to each as one bundle (``deps``).

Built by the composition root (``bootstrap.connect``) from real adapters, and by the
tests (``tests/fakes.py``) from fakes held to the same contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.auth.storage.ports import Stores
from shared.bus import Publisher
from shared.events import Recorder
from shared.events.model import now


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class TeamUsage(Protocol):
    """What other contexts still hold of a team (tsuru refuses to remove it then)."""

    def apps(self, team: str) -> list[str]: ...
    def service_instances(self, team: str) -> list[str]: ...
    # Team info's ``apps``: the apps the team owns and may access, as apps shows them.
    def owned_apps(self, team: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Config:
    hash_cost: int = 10
    token_expire_days: int = 7
    registration: bool = False
    # Key the API keys are derived with (see domain/secrets.py).
    apikey_key: bytes = b"\0" * 32
    # Key the app tokens are derived with (see domain/secrets.py).
    apptoken_key: bytes = b"\1" * 32
    user_quota: int = -1
    team_quota: int = -1


@dataclass
class Deps:
    stores: Stores
    recorder: Recorder
    publisher: Publisher
    mailer: Mailer
    team_usage: TeamUsage
    config: Config = field(default_factory=Config)
    clock: Callable[[], datetime] = now  # UTC, at the storage's precision
