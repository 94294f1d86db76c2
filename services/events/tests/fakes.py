"""The events bundle on fakes (memory stores, the memory event log, recorders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.events.domain.outgoing import OutgoingRequest
from services.events.operations.deps import Config, Deps, Response
from services.events.storage.memory import memory_stores
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder, MemoryEventStorage


@dataclass
class RecordingSender:
    """Answers each webhook request with the next status of ``answers`` (200 after)."""

    answers: list[int] = field(default_factory=list)
    sent: list[OutgoingRequest] = field(default_factory=list)

    def __call__(self, request: OutgoingRequest) -> Response:
        self.sent.append(request)
        return Response(self.answers.pop(0) if self.answers else 200, "body")


@dataclass
class RecordingRetries:
    max_attempts: int = 3
    scheduled: list[tuple[dict[str, Any], int]] = field(default_factory=list)

    def schedule(self, message: dict[str, Any], failed_attempt: int) -> None:
        self.scheduled.append((message, failed_attempt))


@dataclass
class StaticTeams:
    teams: list[str] = field(default_factory=list)

    def only_team(self) -> str | None:
        return self.teams[0] if len(self.teams) == 1 else None


def fake_deps(storage: MemoryEventStorage | None = None, *, teams: list[str] | None = None) -> Deps:
    storage = storage or MemoryEventStorage()
    return Deps(
        stores=memory_stores(storage),
        recorder=FakeRecorder(storage),
        publisher=RecordingPublisher(),
        teams=StaticTeams(list(teams or [])),
        sender=RecordingSender(),
        retries=RecordingRetries(),
        config=Config(),
    )
