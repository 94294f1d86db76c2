"""The periodic jobs of the events worker, each on its own thread and timer.

* the stale-event cleaner (tsuru runs one every 5 min; we run every minute): dead
  running events are finished and their locks freed, so a dead holder's lock is
  free again within ``lock expiry + interval``;
* the webhook sweep (events whose finished notice never arrived).

They never wait for each other: a long sweep (a burst of finished events) cannot
delay the cleaner, and one failing does not stop the other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from services.events.operations.delivery import sweep
from services.events.operations.deps import Deps

log = logging.getLogger(__name__)


def every(
    name: str, interval: float, job: Callable[[], object], stop: threading.Event
) -> threading.Thread:
    """Run ``job`` now, then every ``interval`` s until ``stop``, on a daemon thread."""

    def loop() -> None:
        while True:
            started = time.monotonic()
            try:
                job()
            except Exception:  # the next round retries; a database blip must not end it
                log.exception("%s failed", name)
            took = time.monotonic() - started
            if took > interval:
                log.warning("%s took %.1f s (interval %.0f s)", name, took, interval)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=loop, name=f"events:{name}", daemon=True)
    thread.start()
    return thread


def clean(deps: Deps) -> int:
    count = deps.recorder.expire_stale()
    if count:
        log.info("expired %d stale event(s)", count)
    return count


def start_jobs(deps: Deps, *, interval: float, stop: threading.Event) -> list[threading.Thread]:
    """The cleaner and the sweep, both every ``interval`` s, independent of each other."""
    return [
        every("cleaner", interval, lambda: clean(deps), stop),
        every("sweep", interval, lambda: sweep(deps), stop),
    ]
