"""What the recorder needs from storage: small atomic steps on two collections.

``events`` (the records, running ones included) and ``event_blocks``. A running event
is its own lock: its document lists the targets it locks (``lockkeys``) and a unique
index over the running events' keys makes the insert that starts it take them all or
none; finishing it (``running`` false) frees them. A lock is as fresh as its event's
heartbeat (``lockupdatetime``). ``shared.events.mongo.MongoEventStorage`` implements
this port for the database; ``shared.testing.events.MemoryEventStorage`` is the fake.
Both pass ``shared/events/tests/test_storage_contract.py``.

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

from shared.events import documents as d
from shared.events.blocks import Block
from shared.events.model import CancelInfo, EventRecord, Instance, LogEntry
from shared.mongo import Index, asc

EVENTS = "events"
BLOCKS = "event_blocks"
# Every kind an event was recorded with, one document each (``GET /events/kinds``
# reads it: a distinct over the events reads every event on SecantusDB). The recorder
# adds a kind the first time its process records it; FILLED marks that the kinds of
# events recorded before the collection existed were added once.
KINDS = "event_kinds"
KINDS_FILLED = "\x00filled"
# Where earlier versions kept one document per lock (dropped at start-up).
OLD_LOCKS = "event_locks"


@dataclass(frozen=True)
class Outcome:
    """How a running event ends. ``log`` None keeps what is stored (an expired event:
    its holder is gone with its log); otherwise the log and end data are stored."""

    end_time: datetime
    error: str = ""
    end_custom_data: Any = None
    log: tuple[LogEntry, ...] | None = ()


class EventStorage(Protocol):
    # -- events and their locks -----------------------------------------------------
    def insert_event(self, record: EventRecord) -> str | None:
        """Store an event; a running one takes its locks (``record.lock_ids()``) with
        it. None when stored; else one of those locks that another running event
        holds (then nothing is stored)."""
        ...

    def lock_holder(self, lock_id: str) -> EventRecord | None:
        """The running event that holds ``lock_id``, if any."""
        ...

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
# slowly otherwise). Each index costs every event write (SecantusDB rewrites all of a
# document's index entries on any update): the listing's pages walk ``starttime``
# alone or behind one equality (services/events/storage/mongo/newest.py).
_NEWEST_BY = ("kind.name", "target.value", "extratargets.target.value", "owner.name",
              "allowed.contexts.value")  # fmt: skip
_BY_START = {field: Index(EVENTS, [(field, 1), ("starttime", -1)]) for field in _NEWEST_BY}
_STARTTIME = Index(EVENTS, [("starttime", -1)])
_RUNNING_ONLY = {"partialFilterExpression": {d.RUNNING: True}}
# The locks: each running event's keys, unique among running events (a finished event
# leaves the index). Its filter is ``running`` alone so that the planner takes it for
# ``lock_holder``'s equality (SecantusDB does not when the filter holds more), and for
# ``{running: true}`` alone: the running events are read whole through it (the cleaner's
# stale ones, the running listing), few at any time, so no index of their own.
LOCKS_INDEX = Index(EVENTS, asc(d.LOCK_KEYS), unique=True, name="running_lockkeys",
                    options=_RUNNING_ONLY)  # fmt: skip
INDEXES = [
    _STARTTIME,
    Index(EVENTS, [("endtime", -1)]),
    LOCKS_INDEX,
    *_BY_START.values(),
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
        "running_1_lockupdatetime_1",  # every event ever
        # The running ones' (each index costs every event's insert and finish: about
        # 0.1 ms of the database's CPU each); they are read through the locks' index.
        "running_lockupdatetime",
    )
}
