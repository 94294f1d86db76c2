"""App log lines fanned out inside one process (unit tests, a single instance)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from services.apps.domain.models import LogLine

BACKLOG = 1000  # lines a follower may fall behind before lines are dropped


class QueueSubscription:
    def __init__(self, backlog: int = BACKLOG) -> None:
        self._q: queue.Queue[list[LogLine] | None] = queue.Queue(maxsize=backlog)
        self._dropped = 0

    @property
    def dropped(self) -> int:
        return self._dropped

    def offer(self, lines: list[LogLine]) -> None:
        try:
            self._q.put_nowait(list(lines))
        except queue.Full:
            self._dropped += len(lines)

    def close(self) -> None:
        try:
            self._q.put_nowait(None)
        except queue.Full:
            pass

    def get(self, timeout: float) -> list[LogLine] | None:
        try:
            first = self._q.get(timeout=timeout)
        except queue.Empty:
            return []
        if first is None:
            return None
        out = list(first)
        while True:  # whatever else is already there, in one go
            try:
                more = self._q.get_nowait()
            except queue.Empty:
                return out
            if more is None:
                self.close()
                return out
            out.extend(more)


class LocalLogFeed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[QueueSubscription]] = {}

    def publish(self, app: str, lines: list[LogLine]) -> None:
        with self._lock:
            subs = list(self._subs.get(app, ()))
        for sub in subs:
            sub.offer(lines)

    @contextmanager
    def follow(self, app: str) -> Iterator[QueueSubscription]:
        sub = QueueSubscription()
        with self._lock:
            self._subs.setdefault(app, []).append(sub)
        try:
            yield sub
        finally:
            with self._lock:
                self._subs[app].remove(sub)
                if not self._subs[app]:
                    del self._subs[app]
