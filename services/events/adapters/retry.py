"""Delayed redelivery of webhook deliveries through RabbitMQ.

One durable delay queue per backoff step (``<ns>.events.webhook.retry.<ms>ms``),
each with a fixed message TTL and dead-lettering into the domain exchange under
``events.webhook.delivery``: an expired message lands back on the deliveries queue.
A fixed TTL per queue avoids the head-of-line blocking of per-message TTLs. The
messages are persistent and confirmed, so retries survive worker and broker restarts.
"""

from __future__ import annotations

import threading
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared.bus import BusError, amqp, keys


def retry_queue(namespace: str, delay: float) -> str:
    return f"{namespace}.events.webhook.retry.{int(delay * 1000)}ms"


class RetryScheduler:
    def __init__(self, amqp_url: str, namespace: str, delays: tuple[float, ...]) -> None:
        if not delays:
            raise ValueError("at least one retry delay is needed")
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.delays = delays
        self._lock = threading.Lock()
        self._conn: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._declared: set[str] = set()

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_for(self, failed_attempt: int) -> float:
        return self.delays[min(max(failed_attempt, 1), len(self.delays)) - 1]

    def schedule(self, message: dict[str, Any], failed_attempt: int) -> None:
        queue = retry_queue(self.namespace, self.delay_for(failed_attempt))
        with self._lock:
            for attempt in range(2):
                try:
                    channel = self._open()
                    if queue not in self._declared:
                        channel.queue_declare(
                            queue,
                            durable=True,
                            arguments={
                                "x-message-ttl": int(self.delay_for(failed_attempt) * 1000),
                                "x-dead-letter-exchange": amqp.exchange_name(self.namespace),
                                "x-dead-letter-routing-key": keys.WEBHOOK_DELIVERY,
                            },
                        )
                        self._declared.add(queue)
                    channel.basic_publish("", queue, amqp.encode(message), amqp.properties())
                    return
                except pika.exceptions.NackError as exc:
                    raise BusError("the broker refused a webhook retry") from exc
                except amqp.RECOVERABLE as exc:
                    self._drop()
                    if attempt:
                        raise BusError(f"cannot schedule a webhook retry: {exc!r}") from exc

    def _open(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self._drop()
            self._conn = amqp.connect(self.amqp_url, f"{self.namespace}.events.webhook.retry")
            channel = self._conn.channel()
            amqp.declare_exchange(channel, self.namespace)
            channel.confirm_delivery()
            self._channel = channel
        return self._channel

    def _drop(self) -> None:
        amqp.close_quietly(self._conn)
        self._conn = None
        self._channel = None
        self._declared.clear()

    def close(self) -> None:
        with self._lock:
            self._drop()
