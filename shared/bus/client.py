"""`Bus`: publish domain messages, consume them, send and serve commands."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared.bus import amqp
from shared.bus.commands import CommandHandler, CommandReplies, command_processor
from shared.bus.dispatch import ConsumerLoop, Delivery
from shared.bus.errors import BusError

MessageHandler = Callable[[str, dict[str, Any]], None]

# Publishing retries on a fresh connection this many times, pausing as below between
# attempts, then gives up with BusError: a web request should fail, not hang.
PUBLISH_ATTEMPTS = 3
PUBLISH_PAUSE = 0.5


class Bus:
    """The stack's message bus on one RabbitMQ, isolated by `namespace`.

    Domain messages go to the durable topic exchange `<namespace>.domain`; routing
    keys are the project's dotted vocabulary (`auth.team.removed`) and need no prefix
    because the exchange itself carries the namespace. Queues are `<namespace>.<queue>`;
    commands go to `<namespace>.<context>.commands`.

    `publish` is thread-safe: one publishing connection per Bus, guarded by a lock,
    opened on first use (nothing touches the network in `__init__`). `consume`,
    `serve_commands` and `send_command` each open their own connection, so a Bus can
    be shared by threads (and gevent greenlets) of a web process.
    """

    def __init__(self, amqp_url: str, namespace: str) -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.exchange = amqp.exchange_name(namespace)
        self._lock = threading.Lock()
        self._conn: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._notices: BlockingChannel | None = None  # the same connection, unconfirmed

    # -- publishing -------------------------------------------------------------

    def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        """Publish a persistent JSON message; returns once the broker confirmed it.

        Raises BusError if the broker nacks it or stays unreachable. A retry after a
        lost confirm may deliver a message twice: consumers are idempotent.
        """
        self._publish(self.exchange, routing_key, body, amqp.properties())

    def notify(self, routing_key: str, body: dict[str, Any]) -> None:
        """Publish a persistent JSON message without waiting for the broker's confirm.

        For notices whose loss something else repairs: the events worker sweeps the
        finished events whose ``events.event.finished`` never came, so the event itself
        is the durable record. Costs the publisher a socket write instead of a round
        trip to the broker (and its lock for that long only). Raises BusError when the
        broker stays unreachable; a message in flight when the connection drops is lost.
        """
        self._publish(self.exchange, routing_key, body, amqp.properties(), confirm=False)

    def _send_reply(self, reply_to: str, correlation_id: str | None, body: dict[str, Any]) -> None:
        # Replies go through the default exchange straight to the sender's queue.
        self._publish("", reply_to, body, amqp.properties(correlation_id=correlation_id))

    def _publish(
        self,
        exchange: str,
        routing_key: str,
        body: dict[str, Any],
        props: pika.BasicProperties,
        *,
        confirm: bool = True,
    ) -> None:
        payload = amqp.encode(body)
        with self._lock:
            last: BaseException | None = None
            for attempt in range(PUBLISH_ATTEMPTS):
                if attempt:
                    time.sleep(PUBLISH_PAUSE)
                try:
                    channel = self._publishing_channel()
                    if not confirm:
                        channel = self._notice_channel()
                    channel.basic_publish(exchange, routing_key, payload, props)
                    return
                except pika.exceptions.NackError as exc:
                    raise BusError(f"the broker refused message {routing_key!r}") from exc
                except amqp.RECOVERABLE as exc:
                    last = exc
                    self._drop_publisher()
            raise BusError(f"cannot publish {routing_key!r}: {last!r}") from last

    def _publishing_channel(self) -> BlockingChannel:
        if self._conn is not None and self._conn.is_open and self._channel is not None:
            # Answer heartbeats and notice a connection the broker closed meanwhile,
            # before trusting it with a message.
            self._conn.process_data_events(time_limit=0)
            if self._channel.is_open:
                return self._channel
        self._drop_publisher()
        self._conn = amqp.connect(self.amqp_url, f"{self.namespace}.publisher")
        channel = self._conn.channel()
        channel.confirm_delivery()
        amqp.declare_exchange(channel, self.namespace)
        self._channel = channel
        return channel

    def _notice_channel(self) -> BlockingChannel:
        """The unconfirmed channel, on the connection ``_publishing_channel`` checked."""
        assert self._conn is not None
        if self._notices is None or not self._notices.is_open:
            self._notices = self._conn.channel()
        return self._notices

    def _drop_publisher(self) -> None:
        amqp.close_quietly(self._conn)
        self._conn = None
        self._channel = None
        self._notices = None

    def close(self) -> None:
        """Close the publishing connection (a later publish opens a new one)."""
        with self._lock:
            self._drop_publisher()

    # -- consuming --------------------------------------------------------------

    def consume(
        self,
        queue: str,
        routing_keys: list[str],
        handler: MessageHandler,
        *,
        durable: bool = True,
        exclusive: bool = False,
        prefetch: int = 10,
        stop: threading.Event | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Feed `handler(routing_key, body)` with messages bound by `routing_keys`.

        Blocks until `stop` is set (forever without one). The queue is
        `<namespace>.<queue>`: durable (it keeps messages while nobody consumes; a
        handler failing twice dead-letters the message into `<namespace>.<queue>.dead`)
        or, with `exclusive=True` or `durable=False`, exclusive and auto-deleted (for
        per-process caches; a message failing twice is dropped; give each process its
        own name, e.g. `gateway.<uuid>`: a second process would wait for the first). Acked
        after the handler returns; see `shared.bus.dispatch` for the failure policy.
        Raises BusError when the broker refuses the declarations (access refused, or
        the queue exists with other arguments).
        Handlers must be idempotent: a message may arrive more than once.
        `on_ready` runs after each (re)connection's bindings are in place: an exclusive
        queue loses what was published while it was gone, so a cache can drop itself.
        """
        name = amqp.queue_name(self.namespace, queue)
        keep = durable and not exclusive

        def setup(channel: BlockingChannel) -> str:
            exchange = amqp.declare_exchange(channel, self.namespace)
            if keep:
                amqp.declare_durable_queue(channel, name)
            else:
                channel.queue_declare(name, exclusive=True, auto_delete=True)
            for key in routing_keys:
                channel.queue_bind(name, exchange, routing_key=key)
            if on_ready is not None:
                on_ready()
            return name

        def process(delivery: Delivery) -> None:
            handler(delivery.method.routing_key, amqp.decode(delivery.body))

        self._loop(name, setup, process, prefetch, stop)

    # -- commands ---------------------------------------------------------------

    def send_command(
        self, context: str, command: dict[str, Any], *, timeout: float = 600
    ) -> CommandReplies:
        """Send `command` to `context`'s command queue and return its replies.

        The command is persistent and confirmed before this returns (BusError
        otherwise). Iterating the result yields each progress message, then the final
        one (`{"final": true, "error": "..."}`) and stops; it raises CommandTimeout when
        no message arrives for `timeout` seconds.
        """
        queue = amqp.commands_queue_name(self.namespace, context)
        correlation_id = uuid.uuid4().hex
        conn: BlockingConnection | None = None
        try:
            conn = amqp.connect(self.amqp_url, f"{self.namespace}.command.{context}")
            channel = conn.channel()
            amqp.declare_durable_queue(channel, queue)
            reply_queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            channel.confirm_delivery()
            channel.basic_publish(
                "",
                queue,
                amqp.encode(command),
                amqp.properties(correlation_id=correlation_id, reply_to=reply_queue),
            )
            return CommandReplies(conn, channel, reply_queue, correlation_id, timeout)
        except pika.exceptions.NackError as exc:
            amqp.close_quietly(conn)
            raise BusError(f"the broker refused the command for {context!r}") from exc
        except amqp.RECOVERABLE as exc:
            amqp.close_quietly(conn)
            raise BusError(f"cannot send a command to {context!r}: {exc!r}") from exc

    def serve_commands(
        self,
        context: str,
        handler: CommandHandler,
        stop: threading.Event | None = None,
    ) -> None:
        """Run `handler(command, reply)` for each command sent to `context`.

        `reply(message)` streams a progress message to the sender. When the handler
        returns or raises, the runner sends `{"final": true, "error": "<message or
        empty>"}` and only then acks the command, so a worker dying mid-command gets it
        redelivered: handlers must be idempotent. One command at a time per call.
        """
        queue = amqp.commands_queue_name(self.namespace, context)

        def setup(channel: BlockingChannel) -> str:
            amqp.declare_durable_queue(channel, queue)
            return queue

        process = command_processor(handler, self._send_reply)
        self._loop(queue, setup, process, 1, stop)

    def _loop(
        self,
        name: str,
        setup: Callable[[BlockingChannel], str],
        process: Callable[[Delivery], None],
        prefetch: int,
        stop: threading.Event | None,
    ) -> None:
        ConsumerLoop(
            connect=lambda: amqp.connect(self.amqp_url, f"{name}.consumer"),
            setup=setup,
            process=process,
            prefetch=prefetch,
            stop=stop if stop is not None else threading.Event(),
            label=name,
        ).run()
