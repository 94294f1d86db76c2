"""The events worker's bus consumers: webhook fan-out and delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.events.operations.delivery import ScheduleRetry, Send, deliver, fan_out
from services.events.storage.ports import DeliveryStore, EventStore, WebhookStore
from shared.bus import keys
from shared.worker import Consumer

DISPATCH_QUEUE = "events.webhook-dispatch"
DELIVERY_QUEUE = "events.webhook-deliveries"


@dataclass(frozen=True)
class DeliveryDeps:
    events: EventStore
    webhooks: WebhookStore
    deliveries: DeliveryStore
    publish: Callable[[str, dict[str, Any]], None]
    send: Send
    schedule_retry: ScheduleRetry
    max_attempts: int


def consumers(d: DeliveryDeps) -> list[Consumer]:
    def on_finished(_key: str, body: dict[str, Any]) -> None:
        fan_out(
            str(body.get("id", "")),
            events=d.events,
            webhooks=d.webhooks,
            deliveries=d.deliveries,
            enqueue=lambda msg: d.publish(keys.WEBHOOK_DELIVERY, msg),
        )

    def on_delivery(_key: str, body: dict[str, Any]) -> None:
        deliver(
            body,
            events=d.events,
            webhooks=d.webhooks,
            deliveries=d.deliveries,
            send=d.send,
            schedule_retry=d.schedule_retry,
            max_attempts=d.max_attempts,
        )

    return [
        Consumer(DISPATCH_QUEUE, [keys.EVENT_FINISHED], on_finished),
        # One delivery at a time, in order; the ack follows the attempt.
        Consumer(DELIVERY_QUEUE, [keys.WEBHOOK_DELIVERY], on_delivery, prefetch=1),
    ]
