"""What operations need from the event recorder (shared.events.EventRecorder fits)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol


class Recorder(Protocol):
    def record(self, **kwargs: Any) -> AbstractContextManager[Any]: ...
