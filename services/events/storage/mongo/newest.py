"""Newest-first pages of the event log: windows of ``starttime`` widened until the
page is full.

SecantusDB walks (and fetches) every entry a sort or range matches before a limit
applies, so one query sorted over the collection costs the collection. A page
(``skip + limit`` events, by ``starttime`` then ``_id``, descending) is read instead
as windows of ``starttime``, newest first, each one range query on a named index
(``hint``): ``starttime`` alone, or behind the filter's equality (kind, target value,
owner). A window that does not fill the page is followed by an older one ``WIDEN``
times longer; after ``MAX_WINDOWS`` the last one is everything older. Windows are
disjoint and cover the time line (every event has a date as ``starttime``), and each
is sorted like the simple query, so the page is exactly the simple query's.

Each query costs a round trip, so the span that filled a page is remembered per
query shape (bounded) and the next page starts from it: a page usually costs one or
two queries. A shape whose page did not fill even with everything (a target with
fewer events than a page) is read whole at once next time, until it fills a page. An event's extra targets are read by one query on their own index
(few events have them: the filter's whole selection there is small).

A filter with no index of its own (``running``, a caller who sees few events) still
walks the windows' events until the page fills: at worst what the simple query walks.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.events.domain.filters import EventFilter
from shared.events import documents as d
from shared.mongo import Doc

FIRST_WINDOW = timedelta(seconds=16)
WIDEN = 8
MAX_WINDOWS = 4
OPEN_BELOW = datetime(1970, 1, 1, tzinfo=UTC)  # past this, the last window is open
REMEMBERED = 512  # query shapes whose filling span is kept
NEWEST = [(d.START_TIME, -1), (d.ID, -1)]


@dataclass(frozen=True)
class Plan:
    """One query of a page and the index it walks; ``windowed`` False: read whole."""

    query: Doc
    index: str
    windowed: bool = True


def _minus(when: datetime, span: timedelta) -> datetime | None:
    """``when - span``, None below the earliest datetime."""
    try:
        return when - span
    except OverflowError:
        return None


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
        self._spans: OrderedDict[str, timedelta | None] = OrderedDict()

    def read(self, page_plans: list[Plan], flt: EventFilter, want: int) -> list[Doc]:
        """The first ``want`` events of the plans' queries, newest first."""
        if want <= 0 or not page_plans:
            return []
        whole = [doc for p in page_plans if not p.windowed for doc in self._find(p, {}, want)]
        windowed = [p for p in page_plans if p.windowed]
        found = self._windows(windowed, flt, want) if windowed else []
        return _merged(found + whole, want) if whole else found

    def _find(self, plan: Plan, window: Doc, n: int) -> list[Doc]:
        where = {"$and": [plan.query, window]} if plan.query and window else plan.query or window
        return list(self.col.find(where).sort(NEWEST).hint(plan.index).limit(n))

    def _windows(self, windowed: list[Plan], flt: EventFilter, want: int) -> list[Doc]:
        anchor = datetime.now(UTC)
        if flt.until is not None and flt.until < anchor:
            anchor = flt.until
        floor = max(OPEN_BELOW, flt.since) if flt.since is not None else OPEN_BELOW
        shape = repr([(p.query, p.index) for p in windowed])
        # None: the last page of this shape never filled, read it whole at once.
        span: timedelta | None = self._spans.get(shape, FIRST_WINDOW)
        found: list[Doc] = []
        high: datetime | None = None
        for rounds in range(1, MAX_WINDOWS + 1):
            low = None if span is None else _minus(anchor, span)
            last = low is None or low <= floor or rounds == MAX_WINDOWS
            window: Doc
            if last:
                window = {d.START_TIME: {"$lt": high}} if high is not None else {}
            else:
                bounds = {"$gte": low} if high is None else {"$gte": low, "$lt": high}
                window = {d.START_TIME: bounds}
            batch = [doc for p in windowed for doc in self._find(p, window, want - len(found))]
            found.extend(_merged(batch, want - len(found)) if len(windowed) > 1 else batch)
            if last:
                # Whole next time while it does not fill a page; windows once it does.
                self._remember(shape, None if len(found) < want else FIRST_WINDOW)
                break
            if len(found) >= want:
                # Start there next time (a little nearer when the first window did).
                assert span is not None
                self._remember(shape, span if rounds > 1 else max(span * 0.8, FIRST_WINDOW))
                break
            assert span is not None and low is not None
            high, span = low, span * WIDEN
        return found

    def _remember(self, shape: str, span: timedelta | None) -> None:
        self._spans[shape] = span
        self._spans.move_to_end(shape)
        while len(self._spans) > REMEMBERED:
            self._spans.popitem(last=False)
