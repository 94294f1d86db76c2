"""Errors of event start, with tsuru's texts (events-and-http.md §2.9, §2.11).

Both answer 500: tsuru maps neither (only app swap turns a lock into 409).
"""

from __future__ import annotations

from shared.errors import ServerError


class EventLocked(ServerError):
    """Another running event holds a target lock; the message describes that event."""


class EventBlocked(ServerError):
    """An active event block matched; the event was stored finished with this text."""


class EventNotRunning(Exception):
    """An operation on a running event found it already finished (e.g. expired)."""
