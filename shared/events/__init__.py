"""Event recording shared by every service (the shared kernel of the events context).

Usage::

    with recorder.record(target=Target("app", name), kind="app.update.env.set",
                         owner=identity, allowed=Allowed("app.read.events", ctxs),
                         custom_data=input_fields()) as evt:
        evt.log("---- Setting 1 new environment variables ----\\n")
        ...
"""

from shared.events.blocks import Block
from shared.events.errors import EventBlocked, EventLocked
from shared.events.locks import expire_stale_events
from shared.events.model import (
    BLOCKS,
    EVENTS,
    FINISHED_KEY,
    LOCKS,
    TARGET_TYPES,
    Allowed,
    Target,
    go_duration,
)
from shared.events.recorder import EventRecorder, RunningEvent

__all__ = [
    "BLOCKS",
    "EVENTS",
    "FINISHED_KEY",
    "LOCKS",
    "TARGET_TYPES",
    "Allowed",
    "Block",
    "EventBlocked",
    "EventLocked",
    "EventRecorder",
    "RunningEvent",
    "Target",
    "expire_stale_events",
    "go_duration",
]
