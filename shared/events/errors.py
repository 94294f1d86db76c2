"""Errors of event start and life, with tsuru's texts (events-and-http.md §2.9, §2.11).

A lock conflict answers 409 everywhere (tsuru 1.11 answers 409 only for app swap
and 500 elsewhere; docs/compatibility.md); a block answers 500 as in tsuru.
"""

from __future__ import annotations

from shared.errors import Conflict, ServerError


class EventLocked(Conflict):
    """Another running event holds a target lock; the message describes that event."""


class EventBlocked(ServerError):
    """An active event block matched; the event was stored finished with this text."""


class EventNotRunning(ServerError):
    """The event is finished, expired, or held by another process now."""
