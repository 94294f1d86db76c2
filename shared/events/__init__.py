"""Event recording shared by every service (the shared kernel of the events context).

Operations open events through ``shared.mutation`` (permission check + event); the
pieces underneath::

    spec = EventSpec(target=Target("app", name), kind="app.update.env.set",
                     owner=Owner.of(identity), allowed=Allowed("app.read.events", ctxs),
                     custom_data=fields)
    with recorder.record(spec) as evt:
        evt.log("---- Setting 1 new environment variables ----\\n")

* ``model``: the typed record (``EventRecord``) and its parts;
* ``documents``: the only mapping between records and stored documents;
* ``storage``: the port the recorder writes through (``MongoEventStorage`` here,
  ``shared.testing.events.MemoryEventStorage`` in tests; a running event is its
  own lock);
* ``recorder``/``running``: life cycle, heartbeat, hand-over between processes.
"""

from shared.events.blocks import BLOCKS_CACHE_SECONDS, Block
from shared.events.errors import EventBlocked, EventLocked, EventNotRunning
from shared.events.model import (
    CANCELED_BY_USER,
    INTERNAL_OWNER,
    NOBODY_BUT_ADMINS,
    READ_EVENTS,
    TARGET_TYPES,
    Allowed,
    CancelInfo,
    EventRecord,
    EventSpec,
    ExtraTarget,
    Instance,
    Kind,
    LogEntry,
    Owner,
    Target,
)
from shared.events.mongo import MongoEventStorage
from shared.events.recorder import EventRecorder, Recorder
from shared.events.running import LogSink, RunningEvent
from shared.events.storage import BLOCKS, EVENTS, EventStorage

__all__ = [
    "BLOCKS", "BLOCKS_CACHE_SECONDS", "CANCELED_BY_USER", "EVENTS", "INTERNAL_OWNER", "NOBODY_BUT_ADMINS",
    "READ_EVENTS", "TARGET_TYPES", "Allowed", "Block", "CancelInfo", "EventBlocked",
    "EventLocked", "EventNotRunning", "EventRecord", "EventRecorder", "EventSpec",
    "EventStorage", "ExtraTarget", "Instance", "Kind", "LogEntry", "LogSink",
    "MongoEventStorage", "Owner", "Recorder", "RunningEvent", "Target",
]  # fmt: skip
