"""In-memory app logs (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from services.apps.domain.models import LogLine


class MemoryLogStore:
    def __init__(self, max_lines: int = 10_000) -> None:
        self.lock = threading.Lock()
        self.max_lines = max(max_lines, 1)
        self.lines: dict[str, list[LogLine]] = {}
        self.next: dict[str, int] = {}

    def append(self, app: str, lines: list[LogLine]) -> list[LogLine]:
        with self.lock:
            start = self.next.get(app, 0)
            stamped = [replace(line, seq=start + i) for i, line in enumerate(lines)]
            if not stamped:
                return []
            self.next[app] = start + len(stamped)
            kept = self.lines.setdefault(app, [])
            kept.extend(stamped)
            del kept[: max(0, len(kept) - self.max_lines)]
            return stamped

    def tail(
        self, app: str, limit: int, match: Callable[[LogLine], bool] | None = None
    ) -> list[LogLine]:
        with self.lock:
            kept = list(self.lines.get(app, []))
        found = [line for line in kept if match is None or match(line)]
        return found[-limit:] if limit > 0 else found

    def drop(self, app: str) -> None:
        with self.lock:
            self.lines.pop(app, None)
            self.next.pop(app, None)
