"""App log lines over the bus: stored lines are published on ``apps.logs.<app>``; each
follower gets its own exclusive queue bound to that key (docs/runtime.md)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.apps.domain.models import LogLine
from services.apps.operations.local_feed import QueueSubscription
from shared.bus import Bus, Publisher, keys
from shared.errors import Unavailable

READY_TIMEOUT = 10.0


def line_json(line: LogLine) -> dict[str, Any]:
    return {"Date": line.date, "Message": line.message, "Source": line.source,
            "Unit": line.unit, "seq": line.seq}  # fmt: skip


def line_from(raw: Any) -> LogLine | None:
    if not isinstance(raw, dict):
        return None
    try:
        return LogLine(str(raw["Date"]), str(raw["Message"]), str(raw.get("Source", "")),
                       str(raw.get("Unit", "")), int(raw.get("seq", -1)))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


class BusLogFeed:
    def __init__(self, publisher: Publisher, amqp_url: str, namespace: str) -> None:
        self._publisher = publisher
        self._amqp_url = amqp_url
        self._namespace = namespace

    def publish(self, app: str, lines: list[LogLine]) -> None:
        self._publisher.publish(keys.app_logs(app), {"lines": [line_json(x) for x in lines]})

    @contextmanager
    def follow(self, app: str) -> Iterator[QueueSubscription]:
        sub = QueueSubscription()
        ready = threading.Event()
        stop = threading.Event()
        bus = Bus(self._amqp_url, self._namespace)

        def handler(_key: str, body: dict[str, Any]) -> None:
            got = [line_from(x) for x in body.get("lines") or []]
            sub.offer([x for x in got if x is not None])

        def consume() -> None:
            try:
                bus.consume(
                    f"apps.follow.{uuid.uuid4().hex}",
                    [keys.app_logs(app)],
                    handler,
                    exclusive=True,
                    prefetch=100,
                    stop=stop,
                    on_ready=ready.set,
                )
            finally:
                sub.close()

        thread = threading.Thread(target=consume, name=f"follow:{app}", daemon=True)
        thread.start()
        try:
            if not ready.wait(READY_TIMEOUT):
                raise Unavailable("the message bus is unavailable, try again later")
            yield sub
        finally:
            stop.set()
            bus.close()
