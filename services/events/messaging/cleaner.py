"""The periodic stale-event cleaner (tsuru runs one every 5 min; we run every minute)."""

from __future__ import annotations

import logging
import threading

from services.events.operations.delivery import sweep
from services.events.operations.deps import Deps

log = logging.getLogger(__name__)


def run_cleaner(deps: Deps, *, interval: float, stop: threading.Event) -> None:
    """Expire dead running events and sweep undispatched finished ones now, then
    every ``interval`` s until ``stop``."""
    while True:
        try:
            count = deps.recorder.expire_stale()
            if count:
                log.info("expired %d stale event(s)", count)
            sweep(deps)
        except Exception:  # the next round retries; a database blip must not end the loop
            log.exception("stale event cleaner failed")
        if stop.wait(interval):
            return
