"""Writes the recorder owes the database after an outage.

When the database fails while an event finishes (or while a half-started event
gives its locks back), the write is kept here and retried by the recorder's
heartbeat, and before the next event starts in this process, so that once the
database is back the target is free again: a client's retry is not refused by a
lock nobody holds any more. A process that dies meanwhile leaves the lock to
expire (``TSUBAME_EVENTS_LOCK_EXPIRY``) and the events cleaner.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bson import ObjectId
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

log = logging.getLogger(__name__)

# The database could not be reached or did not answer in time: worth retrying.
OUTAGE = (ConnectionFailure, ExecutionTimeout, WTimeoutError)


class PendingWrites:
    def __init__(self) -> None:
        self._writes: dict[ObjectId, Callable[[], object]] = {}
        self._mutex = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._writes)

    def add(self, event_id: ObjectId, write: Callable[[], object]) -> None:
        with self._mutex:
            self._writes[event_id] = write

    def flush(self) -> int:
        """Retry every owed write once; returns how many are still owed."""
        with self._mutex:
            owed = list(self._writes.items())
        for event_id, write in owed:
            try:
                write()
            except OUTAGE as exc:
                log.warning("event %s: database still unavailable (%r)", event_id, exc)
                continue
            except Exception:  # not an outage: retrying cannot help
                log.exception("event %s: giving up an owed write", event_id)
            with self._mutex:
                if self._writes.get(event_id) is write:
                    del self._writes[event_id]
        return len(self._writes)
