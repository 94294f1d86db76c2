"""The client's stream as an event sink: what the event logs, the client reads."""

from __future__ import annotations

from collections.abc import Callable


class Sink:
    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def write(self, message: str) -> None:
        self._write(message)
