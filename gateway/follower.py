"""A table a gateway worker copies from its owning service and keeps current.

The gateway never reads another context's database: it asks the owner over HTTP for the
whole table, then follows the owner's change messages. A ``Follower`` runs two
background threads (greenlets under gunicorn's gevent worker):

* the load loop: a load at start, retried with backoff (``FIRST_DELAY`` doubling up to
  ``MAX_DELAY``) until the owner answers, never holding traffic; then one on every
  ``reload()`` and one every ``resync_seconds`` (a message the owner could not publish);
* the bus consumer: an exclusive queue of this worker bound to ``routing_keys``; each
  message goes to ``on_message`` (by default: ask for a load), and every (re)connection
  asks for a load (an exclusive queue loses what was published while it was gone). A
  consumer that fails is started again; the periodic load covers the gap.

What a load reads and how a message applies (seq-ordered, older ones ignored) belongs
to the table: subclasses give ``load_once`` and, when a message carries the change
itself, ``on_message``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

log = logging.getLogger("tsubame.gateway")

RESYNC_SECONDS = 30.0
FIRST_DELAY = 0.2
MAX_DELAY = 5.0
# A consumer that failed is started again after this long.
CONSUMER_RESTART = 2.0

Table = TypeVar("Table")


class Follower(Generic[Table]):
    # What the logs call the table ("app routes"), the threads' name and the queue's
    # prefix; set by each subclass.
    subject: ClassVar[str]
    thread_name: ClassVar[str]
    queue_prefix: ClassVar[str]
    routing_keys: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        table: Table,
        fetch: Callable[[], Any],
        bus_factory: Callable[[], Any] | None,
        *,
        resync_seconds: float = RESYNC_SECONDS,
    ) -> None:
        self._table = table
        self._fetch = fetch
        self._bus_factory = bus_factory
        self._resync = resync_seconds
        self._reload = threading.Event()
        self._stop = threading.Event()
        self.loads = 0  # loads applied (tests, health)

    def start(self) -> None:
        threading.Thread(target=self._load_loop, name=self.thread_name, daemon=True).start()
        if self._bus_factory is not None:
            threading.Thread(
                target=self._consume_loop, name=f"{self.thread_name}-bus", daemon=True
            ).start()

    def stop(self) -> None:
        self._stop.set()
        self._reload.set()

    def reload(self) -> None:
        self._reload.set()

    def load_once(self) -> None:
        """Fetch the whole table and apply it (raise when the answer is unusable)."""
        raise NotImplementedError

    def on_message(self, _key: str, _body: dict[str, Any]) -> None:
        """A change message; by default the whole table is read again."""
        self.reload()

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _load_loop(self) -> None:
        delay = FIRST_DELAY
        while not self._stop.is_set():
            self._reload.clear()
            try:
                self.load_once()
            except Exception as exc:  # keep what we hold; try again soon
                log.warning("could not load the %s: %s", self.subject, exc)
                self._pause(delay)
                delay = min(delay * 2, MAX_DELAY)
                continue
            delay = FIRST_DELAY
            self._reload.wait(self._resync)

    def _consume_loop(self) -> None:
        assert self._bus_factory is not None
        queue = f"{self.queue_prefix}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        while not self._stop.is_set():
            try:
                bus = self._bus_factory()
                bus.consume(
                    queue,
                    list(self.routing_keys),
                    self.on_message,
                    durable=False,
                    exclusive=True,
                    stop=self._stop,
                    on_ready=self.reload,
                )
            except Exception:  # never die: the periodic load covers the gap
                log.exception("%s consumer failed; restarting", self.subject)
                self._pause(CONSUMER_RESTART)
