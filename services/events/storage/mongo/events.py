"""Reading the event log for the API (collection ``events``, written by the recorder).

A page in the default order (newest ``starttime`` first) is read as windows of
``starttime``, newest first, each one range query on the ``starttime`` index (or a
compound index of the filter's equality and ``starttime``), widened ``WIDEN`` times
per step until the page (``skip + limit``) is full. SecantusDB walks every index entry
a sort or range matches before applying a limit, so one query sorted over the whole
collection costs the collection; a window costs the events in it. Windows are
disjoint and cover the time line (the last one is everything older; every event has
a date as ``starttime``), and each is sorted like the simple query, so the page is
exactly the simple query's (``simple_find``: other orders use it). A filter with no
index of its own (``running``, a caller who sees few events) still walks the windows'
events until the page fills: at worst what the simple query walks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.webhooks import EventHead
from shared.events import EVENTS, EventRecord, Kind, MongoEventStorage
from shared.events import documents as d
from shared.events.storage import index_name
from shared.mongo import Db, Doc

# The newest window spans FIRST_WINDOW back from now (or from ``until``); each next
# one is WIDEN times longer. Past OPEN_BELOW (or ``since``) the last window is open.
FIRST_WINDOW = timedelta(seconds=4)
WIDEN = 4
OPEN_BELOW = datetime(1970, 1, 1, tzinfo=UTC)
NEWEST = [(d.START_TIME, -1), (d.ID, -1)]


def _any_target(type_field: str, extra_field: str, value: str) -> Doc:
    return {"$or": [{type_field: value}, {extra_field: value}]}


def event_query(
    flt: EventFilter, visibility: Visibility, *, value_field: str | None = None
) -> Doc | None:
    """The Mongo form of ``flt.matches`` plus ``visibility.allows``; None = nothing visible.
    ``value_field``: match ``target.value`` on that field only (one branch of its ``$or``)."""
    clauses: list[Doc] = []
    if flt.kind_names:
        clauses.append({d.KIND_NAME: {"$in": list(flt.kind_names)}})
    if flt.kind_type:
        clauses.append({d.KIND_TYPE: flt.kind_type})
    if flt.target_type:
        clauses.append(_any_target(d.TARGET_TYPE, d.EXTRA_TARGET_TYPE, flt.target_type))
    if flt.target_value and value_field is not None:
        clauses.append({value_field: flt.target_value})
    elif flt.target_value:
        clauses.append(_any_target(d.TARGET_VALUE, d.EXTRA_TARGET_VALUE, flt.target_value))
    if flt.owner_type:
        clauses.append({d.OWNER_TYPE: flt.owner_type})
    if flt.owner_name:
        clauses.append({d.OWNER_NAME: flt.owner_name})
    if flt.since is not None:
        clauses.append({d.START_TIME: {"$gte": flt.since}})
    if flt.until is not None:
        clauses.append({d.START_TIME: {"$lte": flt.until}})
    if flt.running is not None:
        clauses.append({d.RUNNING: flt.running})
    if flt.error_only:
        clauses.append({d.ERROR: {"$nin": ["", None]}})
    if not visibility.everything:
        options: list[Doc] = []
        for scheme, contexts in visibility.schemes.items():
            prefix = {d.ALLOWED_SCHEME: {"$regex": "^" + re.escape(scheme)}}
            if contexts is None:
                options.append(prefix)
                continue
            for ctx_type, ctx_value in contexts:
                match = {"$elemMatch": d.context_doc(ctx_type, ctx_value)}
                options.append({**prefix, d.ALLOWED_CONTEXTS: match})
        if not options:
            return None
        clauses.append({"$or": options})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# What webhook matching reads of an event (the sweep fetches only this).
_SUMMARY = (d.ID, d.TARGET, d.EXTRA_TARGETS, d.KIND, d.ERROR, d.ALLOWED_CONTEXTS)


def _pair(raw: Any, first: str, second: str) -> tuple[str, str]:
    raw = raw if isinstance(raw, dict) else {}
    return str(raw.get(first) or ""), str(raw.get(second) or "")


def _head(doc: Doc) -> EventHead:
    """A summary read straight from the document (no whole record: the sweep reads
    thousands)."""
    return EventHead(
        id=str(doc[d.ID]),
        target=_pair(doc.get(d.TARGET), "type", "value"),
        extra_targets=tuple(
            _pair(e.get("target"), "type", "value")
            for e in doc.get(d.EXTRA_TARGETS) or ()
            if isinstance(e, dict)
        ),
        kind=_pair(doc.get(d.KIND), "type", "name"),
        error=str(doc.get(d.ERROR) or ""),
        contexts=tuple(
            _pair(c, "ctxtype", "value") for c in (doc.get("allowed") or {}).get("contexts") or ()
        ),
    )


def _plans(flt: EventFilter, visibility: Visibility, query: Doc) -> list[tuple[Doc, str]]:
    """The queries of a newest-first page and the index each must walk. The index is
    named (``hint``): given equality on ``target.type`` and ``target.value`` and a
    ``starttime`` range, SecantusDB's planner may walk every event of the type; and
    an ``$or`` of target and extra targets walks both whole, so a target value is
    read as two queries, one per field, each on its (value, starttime) index."""
    if flt.target_value:
        plans = []
        for field in (d.TARGET_VALUE, d.EXTRA_TARGET_VALUE):
            branch = event_query(flt, visibility, value_field=field)
            if branch is not None:
                plans.append((branch, index_name(field)))
        return plans
    if flt.kind_names:
        return [(query, index_name(d.KIND_NAME))]
    if flt.owner_name:
        return [(query, index_name(d.OWNER_NAME))]
    return [(query, index_name(None))]


def simple_find(col: Any, flt: EventFilter, query: Doc) -> list[EventRecord]:
    """One query sorted and limited by the database: what ``find`` must equal. Its cost
    is every event the query matches (orders other than newest first use it)."""
    # tsuru hands the sort key to the storage as is (the stored field names).
    field, direction = flt.sort_key
    cursor = col.find(query).sort([(field, direction), (d.ID, direction)])
    if flt.skip:
        cursor = cursor.skip(flt.skip)
    return [d.from_doc(doc) for doc in cursor.limit(flt.limit)]


def _minus(when: datetime, span: timedelta) -> datetime | None:
    """``when - span``, None below the earliest datetime."""
    try:
        return when - span
    except OverflowError:
        return None


class MongoEventStore:
    def __init__(self, db: Db) -> None:
        self.col = db[EVENTS]
        self._kernel = MongoEventStorage(db)

    def find(self, flt: EventFilter, visibility: Visibility) -> list[EventRecord]:
        query = event_query(flt, visibility)
        if query is None:
            return []
        if flt.sort_key != (d.START_TIME, -1):
            return simple_find(self.col, flt, query)
        want = flt.skip + flt.limit
        plans = _plans(flt, visibility, query)
        return [d.from_doc(doc) for doc in self._newest(plans, flt, want)[flt.skip : want]]

    def _newest(self, plans: list[tuple[Doc, str]], flt: EventFilter, want: int) -> list[Doc]:
        """The first ``want`` events of the plans' queries by (starttime, _id)
        descending, read window by window (module docstring)."""
        anchor = datetime.now(UTC)
        if flt.until is not None and flt.until < anchor:
            anchor = flt.until
        floor = max(OPEN_BELOW, flt.since) if flt.since is not None else OPEN_BELOW
        found: list[Doc] = []
        high: datetime | None = None
        span = FIRST_WINDOW
        while len(found) < want:
            low = _minus(anchor, span)
            last = low is None or low <= floor
            window: Doc
            if last:
                window = {d.START_TIME: {"$lt": high}} if high is not None else {}
            else:
                bounds = {"$gte": low} if high is None else {"$gte": low, "$lt": high}
                window = {d.START_TIME: bounds}
            found.extend(self._window(plans, window, want - len(found)))
            if last:
                break
            high, span = low, span * WIDEN
        return found

    def _window(self, plans: list[tuple[Doc, str]], window: Doc, n: int) -> list[Doc]:
        """The first ``n`` events of one window (over every plan, each id once)."""
        seen: dict[Any, Doc] = {}
        for query, index in plans:
            where = {"$and": [query, window]} if query and window else query or window
            cursor = self.col.find(where).sort(NEWEST).hint(index).limit(n)
            for doc in cursor:
                seen.setdefault(doc[d.ID], doc)
        if len(plans) == 1:
            return list(seen.values())
        docs = sorted(seen.values(), key=lambda doc: doc[d.ID], reverse=True)
        docs.sort(key=lambda doc: doc[d.START_TIME], reverse=True)  # stable: ids break ties
        return docs[:n]

    def get(self, event_id: ObjectId) -> EventRecord | None:
        return self._kernel.get_event(event_id)

    def finished_between(
        self, since: datetime, until: datetime, *, page_size: int
    ) -> Iterator[list[EventHead]]:
        # One range read over the endtime index, fetched in batches: a query per page
        # would walk the window again each time (SecantusDB walks a range before
        # applying a limit), and an $in of the window's ids costs a lookup per id.
        cursor = self.col.find(
            {d.END_TIME: {"$gte": since, "$lte": until}, d.RUNNING: False},
            dict.fromkeys(_SUMMARY, 1),
            batch_size=page_size,
        )
        page: list[EventHead] = []
        for doc in cursor:
            page.append(_head(doc))
            if len(page) >= page_size:
                yield page
                page = []
        if page:
            yield page

    def kinds(self) -> list[Kind]:
        found: list[Any] = self.col.distinct(d.KIND)
        kinds = {
            Kind(str(k.get("type", "")), str(k.get("name", "")))
            for k in found
            if isinstance(k, dict)
        }
        return sorted(kinds, key=lambda k: (k.type, k.name))

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        return self._kernel.request_cancel(event_id, owner=owner, reason=reason, when=when)
