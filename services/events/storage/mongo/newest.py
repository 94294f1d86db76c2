"""Newest-first pages of the event log: windows of ``starttime`` widened until the
page is full.

SecantusDB walks (and fetches) every entry a sort or range matches before a limit
applies, so one query sorted over the collection costs the collection. A page
(``skip + limit`` events, by ``starttime`` then ``_id``, descending) is read instead
as windows of ``starttime``, newest first. A window that does not fill the page is
followed by an older one ``WIDEN`` times longer; after ``MAX_WINDOWS`` the last one
is everything older. Windows are disjoint and cover the filter's time span (its
``since`` and ``until`` are the first and last windows' bounds), and each is sorted
like the simple query, so the page is exactly the simple query's.

Each window's query has one shape only: at most one equality (``Plan.query``) and
the window's range on ``starttime``, which SecantusDB serves with ``starttime``'s
index or a compound ``(field, starttime)`` one. Its planner uses an index only when
the index holds every field of the filter (a second equality, an ``$in``, an ``$or``
or an unindexed field is a collection scan, per window), and a named index
(``hint``) walks that whole index whatever the range: the rest of the filter is
checked on the documents read (``Plan.check``, the reference semantics). A filter
several equalities serve (a target value and its extra targets, the contexts a
caller sees, several kinds) is several plans merged.

Each query costs a round trip, so how a page lay in time is remembered per filter
(bounded) and the next page starts from it: the time a page took at that pace, but
no further back than just past the last page (an idle log: the page is the same). A
page usually costs one query per plan reading about 1.25 times the page. A filter
whose page did not fill even with everything (a target with fewer events than a
page) is read whole at once next time, until it fills a page. A plan that selects
few events in all (an event's extra targets, the running events) is read whole.

A filter whose plan has no equality (a caller who sees everything, or a global
scheme, filtering by ``kindtype``, ``ownertype``, ``erroronly`` or ``running=false``
alone) walks the windows' events until the page fills: at worst every event.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.events.domain.filters import EventFilter
from shared.events import documents as d
from shared.mongo import Doc

FIRST_WINDOW = timedelta(seconds=16)
WIDEN = 8
MAX_WINDOWS = 24  # from 16 s widened 8 times a step, the ninth reaches before 1970
MARGIN = 1.25  # the remembered span covers this many pages' worth of time
OPEN_BELOW = datetime(1970, 1, 1, tzinfo=UTC)  # past this, the last window is open
REMEMBERED = 512  # filters whose span is kept
NEWEST = [(d.START_TIME, -1), (d.ID, -1)]


@dataclass(frozen=True)
class Last:
    """How a filter's last page lay in time: time per event from the read to the
    page's oldest event (``edge``), and from its newest to its oldest (``extent``)."""

    pace: timedelta
    edge: datetime
    extent: timedelta


# A filter never read: its first window spans FIRST_WINDOW.
FIRST = Last(FIRST_WINDOW, OPEN_BELOW, timedelta(0))


@dataclass(frozen=True)
class Plan:
    """One query of a page: ``query`` at most one equality (the window adds the
    ``starttime`` range); ``check`` the filter read on the documents (None: the query
    and the window are the whole filter); ``windowed`` False: read whole at once,
    the query alone (then ``check`` is the whole filter)."""

    query: Doc
    check: Callable[[Doc], bool] | None = None
    windowed: bool = True


def _minus(when: datetime, span: timedelta) -> datetime | None:
    """``when - span``, None below the earliest datetime."""
    try:
        return when - span
    except OverflowError:
        return None


def _bounds(low: datetime | None, low_in: bool, high: datetime | None, high_in: bool) -> Doc | None:
    """The range of ``starttime`` between ``low`` and ``high`` (None: unbounded)."""
    out: Doc = {}
    if low is not None:
        out["$gte" if low_in else "$gt"] = low
    if high is not None:
        out["$lte" if high_in else "$lt"] = high
    return out or None


def _merged(docs: list[Doc], n: int) -> list[Doc]:
    """The first ``n`` of ``docs`` (each id once) by (starttime, _id) descending."""
    seen: dict[Any, Doc] = {}
    for doc in docs:
        seen.setdefault(doc[d.ID], doc)
    ordered = sorted(seen.values(), key=lambda doc: doc[d.ID], reverse=True)
    ordered.sort(key=lambda doc: doc[d.START_TIME], reverse=True)  # stable: ids break ties
    return ordered[:n]


class NewestPages:
    def __init__(self, col: Any) -> None:
        self.col = col
        # filter -> how its last page lay in time (None: read it whole)
        self._pace: OrderedDict[str, Last | None] = OrderedDict()

    def read(self, plans: list[Plan], flt: EventFilter, want: int, *, shape: str) -> list[Doc]:
        """The first ``want`` events of the plans' queries, newest first. ``shape``
        names the filter (without its page) for the remembered span."""
        if want <= 0 or not plans:
            return []
        # A plan read whole is one equality alone (its check holds the time span).
        whole = [doc for p in plans if not p.windowed for doc in self._find(p, None, want)]
        windowed = [p for p in plans if p.windowed]
        found = self._windows(windowed, flt, want, shape) if windowed else []
        return _merged(found + whole, want) if whole else found

    def _find(self, plan: Plan, bounds: Doc | None, n: int) -> list[Doc]:
        where = {**plan.query, d.START_TIME: bounds} if bounds else plan.query
        cursor = self.col.find(where).sort(NEWEST)
        if plan.check is None:
            return list(cursor.limit(n))
        found = []
        for doc in cursor:
            if plan.check(doc):
                found.append(doc)
                if len(found) >= n:
                    break
        cursor.close()
        return found

    def _windows(self, windowed: list[Plan], flt: EventFilter, want: int, shape: str) -> list[Doc]:
        anchor = datetime.now(UTC)
        if flt.until is not None and flt.until < anchor:
            anchor = flt.until
        floor = max(OPEN_BELOW, flt.since) if flt.since is not None else OPEN_BELOW
        span = self._first_span(self._pace.get(shape, FIRST), anchor, want)
        found: list[Doc] = []
        high: datetime | None = None
        for rounds in range(1, MAX_WINDOWS + 1):
            low = None if span is None else _minus(anchor, span)
            last = low is None or low <= floor or rounds == MAX_WINDOWS
            # The first window reaches up to ``until`` (or the future), the last one
            # down to ``since`` (or the beginning of time).
            upper = (flt.until, True) if high is None else (high, False)
            lower = (flt.since, True) if last else (low, True)
            window = _bounds(lower[0], lower[1], upper[0], upper[1])
            batch = [doc for p in windowed for doc in self._find(p, window, want - len(found))]
            found.extend(_merged(batch, want - len(found)) if len(windowed) > 1 else batch)
            if len(found) >= want or last:
                break
            # Widen by what is missing (the last window's density), at least twice.
            grow = min(WIDEN, max(2.0, want / max(len(found), 1) * MARGIN)) if found else WIDEN
            high, span = low, (span or FIRST_WINDOW) * grow
        self._learn(shape, anchor, found, want)
        return found

    def _learn(self, shape: str, anchor: datetime, found: list[Doc], want: int) -> None:
        """Remember how the page lay in time (None: it never filled)."""
        last: Last | None = None
        if len(found) >= want:
            newest, edge = found[0][d.START_TIME], found[want - 1][d.START_TIME]
            try:
                pace = max(anchor - edge, timedelta(0)) / want
                last = Last(pace, edge, max(newest - edge, timedelta(0)))
            except (TypeError, OverflowError):
                last = None
        self._pace[shape] = last
        self._pace.move_to_end(shape)
        while len(self._pace) > REMEMBERED:
            self._pace.popitem(last=False)

    @staticmethod
    def _first_span(last: Last | None, anchor: datetime, want: int) -> timedelta | None:
        """How far back the first window reaches: the time ``want`` events took at
        the last page's pace, but no further back than just past the last page's
        oldest event (no event arrived since: the log is idle, the page is the same)."""
        if last is None:
            return None
        if last is FIRST:
            return FIRST_WINDOW
        span = max(last.pace * want * MARGIN, timedelta(seconds=1))
        try:
            just_past = anchor - (last.edge - last.extent * (MARGIN - 1) - timedelta(seconds=1))
        except OverflowError:
            return span
        return min(span, max(just_past, timedelta(seconds=1)))
