"""The events worker's bus consumers: webhook fan-out and delivery."""

from __future__ import annotations

from typing import Any

from services.events.operations.delivery import deliver, fan_out
from services.events.operations.deps import Deps
from shared.bus import keys
from shared.worker import Consumer

DISPATCH_QUEUE = "events.webhook-dispatch"
DELIVERY_QUEUE = "events.webhook-deliveries"


def consumers(deps: Deps) -> list[Consumer]:
    def on_finished(_key: str, body: dict[str, Any]) -> None:
        fan_out(deps, str(body.get("id", "")))

    def on_delivery(_key: str, body: dict[str, Any]) -> None:
        deliver(deps, body)

    return [
        Consumer(DISPATCH_QUEUE, [keys.EVENT_FINISHED], on_finished),
        # One delivery at a time, in order; the ack follows the attempt.
        Consumer(DELIVERY_QUEUE, [keys.WEBHOOK_DELIVERY], on_delivery, prefetch=1),
    ]
