"""A recorder fake: keeps what would have been recorded (kind, target, error)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recorded:
    kwargs: dict[str, Any]
    error: str = ""

    @property
    def kind(self) -> str:
        return str(self.kwargs["kind"])


@dataclass
class FakeRecorder:
    events: list[Recorded] = field(default_factory=list)

    @contextmanager
    def record(self, **kwargs: Any) -> Iterator[Recorded]:
        rec = Recorded(kwargs)
        self.events.append(rec)
        try:
            yield rec
        except BaseException as exc:
            rec.error = str(exc)
            raise
