"""The app log as the runtime feeds it: unit output (the backend's LogSink) and the
runtime's own lines, batched to ``provisioner.unit.logs`` (docs/runtime.md), which the
apps worker stores and fans out. The last lines of each unit stay in memory for tsuru's
"Last N log messages" of a failed start.

Publishing never blocks the backend's readers: lines wait in a bounded buffer that a
thread sends every ``interval`` seconds (or sooner when it fills); past the bound the
oldest are dropped and counted, as tsuru drops lines a slow consumer cannot take.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.provisioner.backends.base import LogLine
from shared.bus import Publisher, keys
from shared.golang.times import rfc3339nano

log = logging.getLogger(__name__)

BATCH = 500  # lines per message
MAX_BUFFER = 50_000
KEEP_PER_UNIT = 10
MAX_UNITS_KEPT = 10_000
MAX_LINE = 64 * 1024


def entry(line: LogLine) -> dict[str, Any]:
    return {
        "Date": rfc3339nano(line.date),
        "Message": line.message[:MAX_LINE],
        "Source": line.source,
        "Unit": line.unit,
    }


class BusAppLog:
    def __init__(self, publisher: Publisher, *, interval: float = 0.25) -> None:
        self.publisher = publisher
        self.interval = interval
        self.dropped = 0
        self._buffer: deque[LogLine] = deque()
        self._recent: OrderedDict[str, deque[LogLine]] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BusAppLog:
        self._thread = threading.Thread(target=self._run, name="app-log", daemon=True)
        self._thread.start()
        return self

    # -- LogSink and the runtime's writer ---------------------------------------------

    def unit_line(self, line: LogLine) -> None:
        with self._lock:
            kept = self._recent.get(line.unit)
            if kept is None:
                kept = self._recent[line.unit] = deque(maxlen=KEEP_PER_UNIT)
                if len(self._recent) > MAX_UNITS_KEPT:
                    self._recent.popitem(last=False)
            kept.append(line)
            self._push(line)

    __call__ = unit_line

    def write(self, app: str, source: str, unit: str, text: str) -> None:
        """tsuru's LogWriter: each non-empty line of ``text`` is one entry, dated now."""
        now = datetime.now(UTC)
        with self._lock:
            for message in text.split("\n"):
                if message.strip():
                    self._push(LogLine(app, unit, "", source, message, now))

    def _push(self, line: LogLine) -> None:
        self._buffer.append(line)
        if len(self._buffer) > MAX_BUFFER:
            self._buffer.popleft()
            self.dropped += 1
        if len(self._buffer) >= BATCH:
            self._wake.set()

    def last_lines(self, units: Sequence[str], limit: int = 10) -> list[LogLine]:
        with self._lock:
            lines = [ln for u in units for ln in self._recent.get(u, ())]
        lines.sort(key=lambda ln: ln.date)
        return lines[-limit:]

    # -- sending ------------------------------------------------------------------------

    def _take(self) -> list[LogLine]:
        with self._lock:
            taken = list(self._buffer)
            self._buffer.clear()
            self._wake.clear()
        return taken

    def flush(self) -> None:
        lines = self._take()
        by_app: dict[str, list[dict[str, Any]]] = {}
        for line in lines:
            by_app.setdefault(line.app, []).append(entry(line))
        for app, entries in by_app.items():
            for i in range(0, len(entries), BATCH):
                try:
                    self.publisher.publish(
                        keys.UNIT_LOGS, {"app": app, "lines": entries[i : i + BATCH]}
                    )
                except Exception:
                    self.dropped += len(entries[i : i + BATCH])
                    log.warning("could not publish %s's log lines", app, exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
