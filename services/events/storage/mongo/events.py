"""Reading the event log for the API (collection ``events``, written by the recorder).

Newest-first pages (the default order) are read by ``newest.NewestPages``, window by
window; other orders by ``simple_find``, one sorted query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from typing import Any

from bson import ObjectId

from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.webhooks import EventHead
from services.events.storage.mongo.newest import NewestPages, Plan
from shared.events import EVENTS, EventRecord, Kind, MongoEventStorage
from shared.events import documents as d
from shared.events.storage import KINDS, KINDS_FILLED
from shared.mongo import Db, Doc


def flat(clauses: list[Doc]) -> Doc:
    """The clauses as one document: SecantusDB's planner bounds an index by the
    fields of a flat query, not by those under ``$and`` (a collection scan). Ranges
    on one field merge; a clash (two bounds of one kind) keeps ``$and``."""
    out: Doc = {}
    for clause in clauses:
        for key, value in clause.items():
            mine = out.get(key)
            if key not in out:
                out[key] = dict(value) if _is_range(value) else value
            elif (
                isinstance(mine, dict)
                and _is_range(mine)
                and _is_range(value)
                and not (set(mine) & set(value))
            ):
                mine.update(value)
            else:
                return {"$and": [c for c in clauses if c]}
    return out


def _is_range(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k.startswith("$") for k in value)


def _any_target(type_field: str, extra_field: str, value: str) -> Doc:
    return {"$or": [{type_field: value}, {extra_field: value}]}


def event_query(flt: EventFilter, visibility: Visibility) -> Doc | None:
    """The Mongo form of ``flt.matches`` plus ``visibility.allows``; None = nothing
    visible. One query for ``simple_find`` (orders other than newest first)."""
    clauses: list[Doc] = []
    if flt.kind_names:
        clauses.append({d.KIND_NAME: {"$in": list(flt.kind_names)}})
    if flt.kind_type:
        clauses.append({d.KIND_TYPE: flt.kind_type})
    if flt.target_type:
        clauses.append(_any_target(d.TARGET_TYPE, d.EXTRA_TARGET_TYPE, flt.target_type))
    if flt.target_value:
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
    return flat(clauses)


# What webhook matching reads of an event (the sweep fetches only this).
_SUMMARY = (d.ID, d.TARGET, d.EXTRA_TARGETS, d.KIND, d.ERROR, d.ALLOWED_CONTEXTS, d.END_TIME)


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
        end_time=doc.get(d.END_TIME),
    )


# A page ending past this many events is empty.
MAX_PAGE_END = 2**31
# What a caller's grants are matched on (``allowed.contexts`` holds type and value).
CONTEXT_VALUE = d.ALLOWED_CONTEXTS + ".value"
# Past this many contexts a caller sees, or kinds a filter names, a page walks the
# windows of every event instead of one query per context or kind and window.
MAX_EQUALITIES = 32


def plans(flt: EventFilter, visibility: Visibility) -> list[Plan]:
    """The queries of a newest-first page, each at most one indexed equality (see
    ``newest``): the filter's most selective one, the rest checked on the documents
    read. In that order: the running events (few at any time: read whole), a target
    value (its own and its extra targets' index), the contexts of a caller who sees
    only some (one query each on ``allowed.contexts.value``), an owner, the kinds."""
    check: Callable[[Doc], bool] | None = _checker(flt, visibility)

    def exact(*used: str) -> Callable[[Doc], bool] | None:
        # Nothing to check when the equality and the window are the whole filter.
        return None if visibility.everything and _only(flt, *used) else check

    if flt.running:
        # Few at any time: read whole through the locks' index (partial on ``running``,
        # which SecantusDB serves the flag alone from).
        return [Plan({d.RUNNING: True}, check, windowed=False)]
    if flt.target_value:
        value = flt.target_value
        return [
            Plan({d.TARGET_VALUE: value}, exact("target_value")),
            Plan({d.EXTRA_TARGET_VALUE: value}, check, windowed=False),
        ]
    contexts = _seen_contexts(visibility)
    if contexts is not None:
        return [Plan({CONTEXT_VALUE: value}, check) for value in contexts]
    if flt.owner_name:
        return [Plan({d.OWNER_NAME: flt.owner_name}, exact("owner_name"))]
    if flt.kind_names and len(flt.kind_names) <= MAX_EQUALITIES:
        check = exact("kind_names")
        return [Plan({d.KIND_NAME: kind}, check) for kind in dict.fromkeys(flt.kind_names)]
    return [Plan({}, exact())]


def _only(flt: EventFilter, *fields: str) -> bool:
    """Whether ``flt`` filters by nothing but ``fields`` and its time span (which the
    windows bound)."""
    page = {"since": None, "until": None, "limit": 0, "skip": 0, "sort": ""}
    cleared = {f.name: f.default for f in dataclass_fields(EventFilter) if f.name in fields}
    return replace(flt, **page, **cleared) == EventFilter(**page)  # type: ignore[arg-type]


def _seen_contexts(visibility: Visibility) -> tuple[str, ...] | None:
    """The context values of a caller who sees events by context only (no global
    scheme), when few; else None."""
    if visibility.everything:
        return None
    values: dict[str, None] = {}
    for contexts in visibility.schemes.values():
        if contexts is None:
            return None
        values.update((value, None) for _type, value in contexts)
    return tuple(values) if len(values) <= MAX_EQUALITIES else None


def _checker(flt: EventFilter, visibility: Visibility) -> Callable[[Doc], bool]:
    """The reference semantics (the memory store's) on one stored document."""

    def check(doc: Doc) -> bool:
        # Who may see it first: a caller who sees little reads many it may not see.
        if not (visibility.everything or visibility.allows(d.allowed_from_doc(doc))):
            return False
        return flt.matches(d.from_doc(doc))

    return check


def simple_find(col: Any, flt: EventFilter, query: Doc) -> list[EventRecord]:
    """One query sorted and limited by the database: what ``find`` must equal. Its cost
    is every event the query matches (orders other than newest first use it)."""
    # tsuru hands the sort key to the storage as is (the stored field names).
    field, direction = flt.sort_key
    cursor = col.find(query).sort([(field, direction), (d.ID, direction)])
    if flt.skip:
        cursor = cursor.skip(flt.skip)
    return [d.from_doc(doc) for doc in cursor.limit(flt.limit)]


class MongoEventStore:
    def __init__(self, db: Db) -> None:
        self.col = db[EVENTS]
        self._kinds = db[KINDS]
        self._kernel = MongoEventStorage(db)
        self._newest = NewestPages(self.col)

    def find(self, flt: EventFilter, visibility: Visibility) -> list[EventRecord]:
        query = event_query(flt, visibility)
        if query is None:
            return []
        if flt.sort_key != (d.START_TIME, -1):
            return simple_find(self.col, flt, query)
        want = flt.skip + flt.limit
        # No log holds that many events (and skip + limit past int64 would not fit a
        # query's limit). Not counted: SecantusDB counts by reading every event.
        if want > MAX_PAGE_END:
            return []
        shape = repr((replace(flt, skip=0, limit=0), visibility))
        docs = self._newest.read(plans(flt, visibility), flt, want, shape=shape)
        return [d.from_doc(doc) for doc in docs[flt.skip : want]]

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
        # The kept kinds (shared.events.storage.KINDS); a distinct over every event
        # only until they were filled from the events recorded before.
        if self._kinds.find_one({d.ID: KINDS_FILLED}, {d.ID: 1}) is None:
            found: list[Any] = self.col.distinct(d.KIND)
        else:
            found = list(self._kinds.find({d.ID: {"$ne": KINDS_FILLED}}))
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
