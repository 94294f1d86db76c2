"""What the recorder needs from storage: small atomic steps on three collections.

``events`` (the records), ``event_locks`` (one document per locked target) and
``event_blocks``. ``shared.events.mongo.MongoEventStorage`` implements this port for
the database; ``shared.testing.events.MemoryEventStorage`` is the fake. Both pass
``shared/events/tests/test_storage_contract.py``.

Every write on a running event names the ``holder`` that may make it (``None`` =
whoever holds it): a process that lost its event (expired, or adopted elsewhere)
finds its writes refused instead of overwriting the new holder's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bson import ObjectId

from shared.events.blocks import Block
from shared.events.model import CancelInfo, EventRecord, Instance, LogEntry, Owner, Target
from shared.mongo import Index, asc

EVENTS = "events"
LOCKS = "event_locks"
BLOCKS = "event_blocks"


@dataclass(frozen=True)
class Lock:
    """One locked target (``id`` = ``<type>(<value>)``) and the event holding it."""

    id: str
    event: ObjectId
    target: Target
    kind: str
    owner: Owner
    start_time: datetime
    updated: datetime  # refreshed by the holder's heartbeat


@dataclass(frozen=True)
class Outcome:
    """How a running event ends. ``log`` None keeps what is stored (an expired event:
    its holder is gone with its log); otherwise the log and end data are stored."""

    end_time: datetime
    error: str = ""
    end_custom_data: Any = None
    log: tuple[LogEntry, ...] | None = ()


class EventStorage(Protocol):
    # -- locks --------------------------------------------------------------------
    def insert_lock(self, lock: Lock) -> bool:
        """Take a free lock; False when someone holds it."""
        ...

    def get_lock(self, lock_id: str) -> Lock | None: ...

    def take_over_lock(self, stale: Lock, lock: Lock) -> bool:
        """Replace ``stale`` (same event and ``updated``) by ``lock``; False when it
        changed meanwhile (refreshed, released or taken by another)."""
        ...

    def delete_locks(self, event_id: ObjectId, lock_ids: Sequence[str] | None = None) -> None:
        """Release an event's locks (all of them, or those named)."""
        ...

    def refresh_locks(self, event_ids: Sequence[ObjectId], when: datetime) -> None: ...

    def delete_locks_older_than(self, cutoff: datetime) -> int: ...

    # -- events -------------------------------------------------------------------
    def insert_event(self, record: EventRecord) -> None: ...

    def get_event(self, event_id: ObjectId) -> EventRecord | None: ...

    def finish_event(
        self,
        event_id: ObjectId,
        outcome: Outcome,
        *,
        holder: str | None = None,
        last_beat: datetime | None = None,
    ) -> bool:
        """Finish a running event (optionally only while ``holder`` holds it, or while
        its heartbeat is still ``last_beat``); False when it was not running so."""
        ...

    def beat(self, event_ids: Sequence[ObjectId], holder: str, when: datetime) -> set[ObjectId]:
        """Refresh the heartbeat of those still running under ``holder``; returns them."""
        ...

    def adopt(
        self, event_id: ObjectId, holder: str, instance: Instance, when: datetime
    ) -> EventRecord | None:
        """Make ``holder`` the holder of a running event; None when it is not running."""
        ...

    def stash_log(self, event_id: ObjectId, holder: str, entries: Sequence[LogEntry]) -> bool:
        """Keep the log written so far with the event, for the process adopting it."""
        ...

    def set_other_data(self, event_id: ObjectId, holder: str, data: Any) -> bool: ...

    def cancel_info(self, event_id: ObjectId) -> CancelInfo | None: ...

    def ack_cancel(self, event_id: ObjectId, holder: str, when: datetime) -> bool:
        """Mark an asked cancellation as acknowledged; False when not held or not asked."""
        ...

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        """Ask a running cancelable event to cancel, once; False when not eligible."""
        ...

    def stale_events(self, cutoff: datetime) -> list[tuple[ObjectId, datetime]]:
        """Running events whose heartbeat is older than ``cutoff``, with that beat."""
        ...

    # -- blocks -------------------------------------------------------------------
    def active_blocks(self) -> list[Block]: ...


# Every query above and the events API's listing are indexed (SecantusDB scans
# slowly otherwise). Each index costs every event write: the listing's pages walk
# ``starttime`` alone or behind one equality (services/events/storage/mongo/newest.py).
_NEWEST_BY = ("kind.name", "target.value", "extratargets.target.value", "owner.name")
_BY_START = {field: Index(EVENTS, [(field, 1), ("starttime", -1)]) for field in _NEWEST_BY}
_STARTTIME = Index(EVENTS, [("starttime", -1)])
INDEXES = [
    _STARTTIME,
    Index(EVENTS, [("endtime", -1)]),
    Index(EVENTS, asc("running", "lockupdatetime")),
    *_BY_START.values(),
    Index(LOCKS, asc("event")),
    Index(LOCKS, asc("updated")),
    Index(BLOCKS, [("active", 1), ("starttime", -1)]),
    Index(BLOCKS, [("starttime", -1)]),
]
# Indexes earlier versions made that nothing reads any more (dropped at start-up).
OBSOLETE_INDEXES = {
    EVENTS: (
        "target.type_1_target.value_1",
        "target.value_1",
        "extratargets.target.type_1",
        "extratargets.target.value_1",
        "owner.name_1",
    )
}
