"""Thin helpers over pika: connections, declarations, message encoding.

Every name that reaches the broker is built here from the stack's namespace, so two
stacks sharing one RabbitMQ never see each other's exchanges or queues.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared import requestid

log = logging.getLogger("tsubame.bus")

# Failures that a new connection may cure. AMQPError covers closed connections and
# channels, lost streams and refused connections; OSError covers sockets dying under us.
RECOVERABLE: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError)

PERSISTENT = pika.DeliveryMode.Persistent


def exchange_name(namespace: str) -> str:
    return f"{namespace}.domain"


def queue_name(namespace: str, queue: str) -> str:
    return f"{namespace}.{queue}"


def dead_queue_name(queue: str) -> str:
    """Where a durable queue's messages go after their second failed delivery."""
    return f"{queue}.dead"


def commands_queue_name(namespace: str, context: str) -> str:
    return f"{namespace}.{context}.commands"


def connect(amqp_url: str, connection_name: str) -> BlockingConnection:
    """One blocking connection, named so operators (and tests) can find it."""
    params = pika.URLParameters(amqp_url)
    params.client_properties = {"connection_name": connection_name}
    params.connection_attempts = 1
    params.blocked_connection_timeout = 30
    return BlockingConnection(params)


def close_quietly(conn: BlockingConnection | None) -> None:
    if conn is None:
        return
    try:
        if conn.is_open:
            conn.close()
    except RECOVERABLE:
        # Already dead: nothing to release on the broker side.
        pass


def declare_exchange(channel: BlockingChannel, namespace: str) -> str:
    name = exchange_name(namespace)
    channel.exchange_declare(name, exchange_type="topic", durable=True)
    return name


def declare_durable_queue(channel: BlockingChannel, name: str) -> None:
    """A durable queue whose rejected messages are dead-lettered to `<name>.dead`.

    Dead-lettering goes through the default exchange straight to the dead queue, so it
    needs no extra exchange and stays inside the namespace.
    """
    dead = dead_queue_name(name)
    channel.queue_declare(dead, durable=True)
    channel.queue_declare(
        name,
        durable=True,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead},
    )


def properties(
    *, correlation_id: str | None = None, reply_to: str | None = None
) -> pika.BasicProperties:
    """A message's properties; the current request id goes in its ``x-request-id``
    header (shared/requestid.py), so the consumer logs under the same id."""
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=PERSISTENT,
        correlation_id=correlation_id,
        reply_to=reply_to,
        headers=requestid.bus_headers(),
    )


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def decode(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("bus message is not a JSON object")
    return value
