"""Newest-first pages of a history collection read as time windows (docs/contracts.md,
"How a new list query is written").

SecantusDB walks every index entry a sort or a range matches before a limit applies,
so ``find(match).sort(field, -1).limit(n)`` costs every matching document. A page is
read instead as windows of ``field`` from now back, each one query on the
``(match key, field)`` or ``field`` index, the next one ``WIDEN`` times longer, until
the page is full or the windows reach past 1970 (the last one is then everything
older). Windows are disjoint and cover the time line, and each is sorted by
``field`` then ``_id``, so the page is exactly the simple sorted query's (ties broken
by ``_id``, descending). A document without a date in ``field`` is in no window.

For histories written now and then (healing runs, node autoscale runs): what a page
costs is the windows' documents, about ``WIDEN`` pages at most where the pace of
writes changes. The events' log, written by every mutation, has its own pages with
a remembered pace (services/events/storage/mongo/newest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.mongo import Doc

FIRST_WINDOW = timedelta(hours=1)
WIDEN = 8
OPEN_BELOW = datetime(1970, 1, 1, tzinfo=UTC)


def newest_first(
    col: Any,
    match: Doc,
    field: str,
    want: int,
    *,
    now: datetime | None = None,
    first: timedelta = FIRST_WINDOW,
) -> list[Doc]:
    """The first ``want`` documents matching ``match`` (at most one equality, the
    index's leading key) by ``field`` then ``_id``, descending."""
    if want <= 0:
        return []
    order = [(field, -1), ("_id", -1)]
    anchor = now or datetime.now(UTC)
    found: list[Doc] = []
    high: datetime | None = None
    span = first
    while len(found) < want:
        low = anchor - span if span < anchor - OPEN_BELOW else None
        bounds: Doc = {}
        if low is not None:
            bounds["$gte"] = low
        if high is not None:
            bounds["$lt"] = high
        where = {**match, field: bounds} if bounds else dict(match)
        found.extend(col.find(where).sort(order).limit(want - len(found)))
        if low is None:
            break
        high, span = low, span * WIDEN
    return found
