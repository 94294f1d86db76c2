"""The collaborators of the events use cases, passed to each as one bundle (``deps``).

The web process and the worker get the same bundle from ``bootstrap.connect``; the
tests build it from fakes (``tests/fakes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from services.events.domain.outgoing import OutgoingRequest
from services.events.storage.ports import Stores
from services.events.storage.recent import WEBHOOKS_CACHE_SECONDS
from shared.bus import Publisher
from shared.events import BLOCKS_CACHE_SECONDS, Recorder


@dataclass(frozen=True)
class Response:
    """A webhook receiver's answer; status 0: no HTTP answer (refused, timeout ...)."""

    status: int
    detail: str = ""


class Sender(Protocol):
    """Sends one webhook request (``adapters/webhook_sender.py``)."""

    def __call__(self, request: OutgoingRequest) -> Response: ...


class Retries(Protocol):
    """Schedules a failed delivery's next attempt later (``adapters/retry.py``)."""

    @property
    def max_attempts(self) -> int: ...

    def schedule(self, message: dict[str, Any], failed_attempt: int) -> None: ...


class Teams(Protocol):
    """The auth context's teams (``adapters/teams.py``)."""

    def only_team(self) -> str | None:
        """The single team of the system, or None when there are 0 or several."""
        ...


@dataclass(frozen=True)
class Config:
    # Age (s) from which a finished event whose notice never arrived is fanned out.
    sweep_delay: float = 30.0
    # Seconds a block's add or removal waits before answering: how long recorders
    # reuse the active blocks they read (shared.events.blocks).
    blocks_settle: float = BLOCKS_CACHE_SECONDS
    # The same for a webhook's creation, update or removal (storage/recent.py).
    webhooks_settle: float = WEBHOOKS_CACHE_SECONDS


@dataclass
class Deps:
    stores: Stores
    recorder: Recorder
    # Raises when the broker refuses: a delivery not queued must not be recorded queued.
    publisher: Publisher
    teams: Teams
    sender: Sender
    retries: Retries
    config: Config = field(default_factory=Config)
