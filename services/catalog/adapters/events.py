"""Whether an operation's event still runs, read from the event log."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from shared.events import EventStorage


class StoredEvents:
    def __init__(self, storage: EventStorage) -> None:
        self._storage = storage

    def running(self, event_id: str) -> bool:
        try:
            oid = ObjectId(event_id)
        except (InvalidId, TypeError):
            return False
        record = self._storage.get_event(oid)
        return record is not None and record.running
