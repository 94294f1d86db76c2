"""A publisher for unit tests."""

from __future__ import annotations

from typing import Any


class RecordingPublisher(list[tuple[str, dict[str, Any]]]):
    """Remembers ``(routing_key, body)`` pairs instead of publishing."""

    def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        self.append((routing_key, body))

    def keys(self) -> list[str]:
        return [key for key, _ in self]
