"""The periodic bind syncer (tsuru's bindSyncer, catalog.md §c.6)."""

from __future__ import annotations

import logging
import threading

from services.catalog.operations.deps import Deps
from services.catalog.operations.recovery import recover
from services.catalog.operations.units import sync_all

log = logging.getLogger(__name__)

FIRST_RUN = 0.1  # seconds after start (tsuru: 100 ms)
RECOVERY_INTERVAL = 10.0  # seconds between two looks for binds cut short


def run_syncer(deps: Deps, *, interval: float, stop: threading.Event) -> None:
    """Sync every bound app's units shortly after start, then every ``interval`` s."""
    wait = FIRST_RUN
    while not stop.wait(wait):
        wait = interval
        try:
            synced = sync_all(deps)
            log.info("bind syncer: %d app(s) synced", synced)
        except Exception:  # the next round retries; an outage must not end the loop
            log.exception("bind syncer failed")


def run_recovery(deps: Deps, *, interval: float = RECOVERY_INTERVAL, stop: threading.Event) -> None:
    """Finish binds and unbinds a dead process left halfway (operations/recovery.py)."""
    while not stop.wait(interval):
        try:
            done = recover(deps)
            if done:
                log.info("recovery: %d bind operation(s) cut short were finished", done)
        except Exception:  # the next round retries
            log.exception("recovery failed")
