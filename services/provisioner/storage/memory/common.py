"""Helpers shared by the provisioner's in-memory stores."""

from __future__ import annotations

import threading


class Locked:
    def __init__(self) -> None:
        self.lock = threading.RLock()


class MemoryFlag:
    """The in-memory twin of ``mongo.common.Flag``: one holder name or None."""

    def __init__(self) -> None:
        self.name: str | None = None


class MemorySeedStore:
    def __init__(self) -> None:
        self.names: set[str] = set()

    def done(self, name: str) -> bool:
        return name in self.names

    def mark(self, name: str) -> None:
        self.names.add(name)
