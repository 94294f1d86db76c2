"""Domain messages of this context, published after each write."""

from __future__ import annotations

import logging
from typing import Any

from shared.bus import Bus, BusError

log = logging.getLogger(__name__)


class BusPublisher:
    """Publishes on the stack's bus; a broker outage must not undo a committed write,
    so failures are logged (gateway cache entries then expire on their own, within
    TSUBAME_GATEWAY_AUTH_CACHE_SECONDS)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        try:
            self.bus.publish(routing_key, body)
        except BusError:
            log.exception("could not publish %s", routing_key)


class RecordingPublisher(list):
    """A fake for tests: remembers ``(routing_key, body)`` pairs."""

    def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        self.append((routing_key, body))
