"""Publishing domain messages from a web process, after its write."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from shared.bus.client import Bus
from shared.bus.errors import BusError

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, routing_key: str, body: dict[str, Any]) -> None: ...


class BestEffortPublisher:
    """Publishes on the stack's bus; a broker outage must not undo a committed write,
    so failures are logged (gateway cache entries then expire on their own, webhook
    notices are swept by the events worker)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        try:
            self.bus.publish(routing_key, body)
        except BusError:
            log.exception("could not publish %s", routing_key)

    def notify(self, routing_key: str, body: dict[str, Any]) -> None:
        """``Bus.notify``: unconfirmed, for notices a sweep repairs (events finished)."""
        try:
            self.bus.notify(routing_key, body)
        except BusError:
            log.exception("could not publish %s", routing_key)
