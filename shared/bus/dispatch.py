"""The consuming loop behind `Bus.consume` and `Bus.serve_commands`.

One connection per loop. Each delivery is handled in a helper thread while this
thread keeps pumping the connection, so a handler that runs for minutes (a deploy)
does not starve heartbeats and get the connection dropped by the broker. Deliveries
are handled one at a time, in order; the prefetch only saves round trips.

Failure policy (the same for domain messages and commands):

* the handler returns -> ack;
* it raises on a first delivery -> nack with requeue, so it runs once more;
* it raises on a redelivery (the broker's `redelivered` flag) -> nack without requeue,
  which dead-letters the message into `<queue>.dead` for durable queues (and drops it
  for exclusive ones). The flag is also set when the previous consumer died before
  acking, so such a message gets one more attempt, not two. We use the broker's flag
  rather than a retry-count header because republishing with a header would ack the
  original first and could lose the message if we crashed in between.
* a requeued message goes back to the head of the queue, but messages already
  prefetched are handled first: after a failure, order is not guaranteed;
* the connection dies, or the broker cancels our consumer (the queue was deleted) ->
  unacked deliveries go back to the queue (the broker does that); we reconnect and
  declare again, with exponential backoff from 0.5 s up to 10 s;
* the broker refuses our declarations (403 access refused, 406 precondition failed,
  e.g. an existing queue with other arguments) -> BusError: reconnecting
  cannot cure a configuration error, and a worker should die loudly instead of
  idling deaf.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared import requestid
from shared.bus.amqp import RECOVERABLE, close_quietly, log
from shared.bus.errors import BusError

BACKOFF_MIN = 0.5
BACKOFF_MAX = 10.0
# How long one idle pump waits for the broker; bounds how late a `stop` is noticed.
IDLE_POLL = 0.5


class Delivery(NamedTuple):
    method: pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes


# Channel-close codes that no reconnection cures.
FATAL_REPLY_CODES = frozenset({403, 406})


class ConsumerCancelled(Exception):
    """The broker cancelled our consumer (its queue was deleted)."""


RETRY: tuple[type[BaseException], ...] = (*RECOVERABLE, ConsumerCancelled)


def _noop() -> None:
    return None


class ConsumerLoop:
    """Consume `setup(channel)`'s queue until `stop` is set, surviving broker outages.

    `process(delivery)` does the work in a helper thread; raising means "failed".
    """

    def __init__(
        self,
        *,
        connect: Callable[[], BlockingConnection],
        setup: Callable[[BlockingChannel], str],
        process: Callable[[Delivery], None],
        prefetch: int,
        stop: threading.Event,
        label: str,
    ) -> None:
        self._connect = connect
        self._setup = setup
        self._process = process
        self._prefetch = prefetch
        self._stop = stop
        self._label = label
        self._delay = BACKOFF_MIN

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code in FATAL_REPLY_CODES:
                    raise BusError(f"{self._label}: the broker refused: {exc.reply_text}") from exc
                self._pause(exc)
            except RETRY as exc:
                self._pause(exc)

    def _pause(self, exc: BaseException) -> None:
        log.warning(
            "%s: consumer interrupted (%r); reconnecting in %.1fs",
            self._label,
            exc,
            self._delay,
        )
        self._stop.wait(self._delay)
        self._delay = min(self._delay * 2, BACKOFF_MAX)

    def _session(self) -> None:
        conn = self._connect()
        try:
            channel = conn.channel()
            channel.basic_qos(prefetch_count=self._prefetch)
            queue = self._setup(channel)
            pending: deque[Delivery] = deque()

            def on_message(
                _ch: BlockingChannel,
                method: pika.spec.Basic.Deliver,
                props: pika.BasicProperties,
                body: bytes,
            ) -> None:
                pending.append(Delivery(method, props, body))

            cancelled: list[object] = []
            channel.add_on_cancel_callback(cancelled.append)
            channel.basic_consume(queue, on_message_callback=on_message)
            self._delay = BACKOFF_MIN
            log.info("%s: consuming %s", self._label, queue)
            while not self._stop.is_set():
                if cancelled:
                    raise ConsumerCancelled(queue)
                if pending:
                    delivery = pending.popleft()
                    ok = self._handle(conn, delivery)
                    self._settle(channel, delivery, ok)
                else:
                    conn.process_data_events(time_limit=IDLE_POLL)
        finally:
            # Unacked deliveries (prefetched, or one whose handler was cut short)
            # return to the queue when the connection closes.
            close_quietly(conn)

    def _handle(self, conn: BlockingConnection, delivery: Delivery) -> bool:
        done = threading.Event()
        outcome: list[bool] = []

        def target() -> None:
            # A fresh thread: the id the message carried is this handler's alone.
            requestid.bind(requestid.from_bus_headers(delivery.properties.headers))
            started = time.perf_counter()
            try:
                self._process(delivery)
                outcome.append(True)
                log.info(
                    "%s: handled %s in %.1fms",
                    self._label,
                    delivery.method.routing_key,
                    (time.perf_counter() - started) * 1000,
                )
            except Exception:
                log.exception(
                    "%s: handler failed on %s (redelivered=%s)",
                    self._label,
                    delivery.method.routing_key,
                    delivery.method.redelivered,
                )
                outcome.append(False)
            finally:
                done.set()
                try:
                    # Wake the pump below at once instead of at its next timeout.
                    conn.add_callback_threadsafe(_noop)
                except RECOVERABLE:
                    pass

        worker = threading.Thread(target=target, name=f"{self._label}-handler", daemon=True)
        worker.start()
        try:
            while not done.is_set():
                conn.process_data_events(time_limit=IDLE_POLL)
        except RECOVERABLE:
            # The message will be redelivered on the next connection; do not let that
            # copy run alongside this one.
            done.wait()
            raise
        return outcome == [True]

    def _settle(self, channel: BlockingChannel, delivery: Delivery, ok: bool) -> None:
        tag = delivery.method.delivery_tag
        if ok:
            channel.basic_ack(tag)
        else:
            channel.basic_nack(tag, requeue=not delivery.method.redelivered)
