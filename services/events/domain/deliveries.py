"""The state of one webhook delivery (event x webhook), kept so a restart resumes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"  # queued, not attempted yet
RETRYING = "retrying"  # an attempt failed, another one is scheduled
DELIVERED = "delivered"  # the receiver answered 2xx/3xx
FAILED = "failed"  # out of attempts, or a 4xx answer
SKIPPED = "skipped"  # the body template failed to execute (tsuru skips too)

FINAL = (DELIVERED, FAILED, SKIPPED)


@dataclass(frozen=True)
class Delivery:
    event_id: str
    webhook: str
    status: str = PENDING
    attempts: int = 0
    last_status: int = 0
    last_error: str = ""
    updated: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.event_id}:{self.webhook}"
