"""Events read back through the shared event kernel's storage (a deploy's log and
outcome, tsuru's ``GET /deploys/{id}``)."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from shared.events import EventRecord, EventStorage


class StorageEventLog:
    def __init__(self, storage: EventStorage) -> None:
        self._storage = storage

    def get(self, event_id: str) -> EventRecord | None:
        try:
            oid = ObjectId(event_id)
        except (InvalidId, TypeError):
            return None
        return self._storage.get_event(oid)
