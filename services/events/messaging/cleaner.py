"""The periodic stale-event cleaner (tsuru runs one every 5 min; we run every minute)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pymongo.database import Database

from shared.events import expire_stale_events

log = logging.getLogger(__name__)


def run_cleaner(
    db: Database,
    *,
    lock_expiry: float,
    interval: float,
    publish: Callable[[str, dict[str, Any]], None] | None,
    stop: threading.Event,
    sweep: Callable[[], int] | None = None,
) -> None:
    """Expire dead running events (and sweep undispatched finished ones) now, then
    every ``interval`` s until ``stop``."""
    while True:
        try:
            count = expire_stale_events(db, lock_expiry, publish=publish)
            if count:
                log.info("expired %d stale event(s)", count)
            if sweep is not None:
                sweep()
        except Exception:  # the next round retries; a database blip must not end the loop
            log.exception("stale event cleaner failed")
        if stop.wait(interval):
            return
