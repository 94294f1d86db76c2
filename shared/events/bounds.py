"""Bounds on what an event stores, so no write can fail with "document too large".

Custom data comes from request bodies (already limited per route) and from the
operations; the log from everything an operation wrote. A MongoDB document holds
at most 16 MiB: each custom data value is kept under ``MAX_CUSTOM_DATA`` bytes of
BSON and the log under ``MAX_LOG`` characters (its oldest entries are dropped
first, with a note saying so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bson

from shared.events.model import LogEntry

MAX_CUSTOM_DATA = 1024 * 1024
MAX_STRING = 64 * 1024
MAX_LOG = 4 * 1024 * 1024
TRUNCATED = "... (truncated)"
LOG_TRUNCATED = "[earlier log entries dropped: the event log is limited to {n} characters]\n"


def _size(value: Any) -> int:
    try:
        return len(bson.encode({"v": value}))
    except (bson.errors.InvalidDocument, OverflowError, UnicodeEncodeError, ValueError):
        return MAX_CUSTOM_DATA + 1


def _shorten(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_STRING else value[:MAX_STRING] + TRUNCATED
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shorten(v) for v in value]
    return value


def bound_custom_data(value: Any) -> Any:
    """``value`` itself when small; long strings cut; a marker if still too large."""
    if value is None or _size(value) <= MAX_CUSTOM_DATA:
        return value
    shortened = _shorten(value)
    if _size(shortened) <= MAX_CUSTOM_DATA:
        return shortened
    return {"truncated": True, "reason": f"custom data over {MAX_CUSTOM_DATA} bytes"}


def bound_log(entries: Sequence[LogEntry]) -> tuple[LogEntry, ...]:
    """The newest entries whose messages fit in ``MAX_LOG`` characters, oldest first."""
    total = 0
    kept: list[LogEntry] = []
    for entry in reversed(entries):
        if total + len(entry.message) > MAX_LOG:
            if not kept:  # one huge entry: keep its end
                kept.append(LogEntry(entry.date, entry.message[-MAX_LOG:]))
            kept.append(LogEntry(entry.date, LOG_TRUNCATED.format(n=MAX_LOG)))
            break
        total += len(entry.message)
        kept.append(entry)
    kept.reverse()
    return tuple(kept)
