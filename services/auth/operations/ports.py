"""Collaborators of the use cases other than storage, and the bundle passed to them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from services.auth.storage.ports import Repos


class Publisher(Protocol):
    def publish(self, routing_key: str, body: dict[str, Any]) -> None: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class TeamUsage(Protocol):
    """What other contexts still hold of a team (tsuru refuses to remove it then)."""

    def apps(self, team: str) -> list[str]: ...
    def service_instances(self, team: str) -> list[str]: ...


class Recorder(Protocol):
    """``shared.events.EventRecorder.record``: a context manager around the mutation."""

    def record(self, **kwargs: Any) -> AbstractContextManager[Any]: ...


def utcnow() -> datetime:
    """Now, in UTC, at the storage's precision (milliseconds)."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Config:
    hash_cost: int = 10
    token_expire_days: int = 7
    registration: bool = False
    # Key the API keys are derived with (see domain/secrets.py).
    apikey_key: bytes = b"\0" * 32
    user_quota: int = -1
    team_quota: int = -1


@dataclass
class Deps:
    repos: Repos
    recorder: Recorder
    publisher: Publisher
    mailer: Mailer
    team_usage: TeamUsage
    config: Config = field(default_factory=Config)
    clock: Callable[[], datetime] = utcnow
