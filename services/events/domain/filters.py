"""The query of ``GET /events`` (events-and-http.md §2.3) and who may see what.

``EventFilter.parse`` reads the query string the way tsuru's form decoder does
(keys case-insensitive, Go bools, RFC 3339 times); ``EventFilter.matches`` is the
reference semantics the storage implementations must agree with (the in-memory
store uses it directly; the Mongo store translates it into a query, and one
contract suite runs both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.events.domain.errors import InvalidFilter
from shared.events import Allowed, EventRecord
from shared.golang.strconv import NumError, parse_bool, parse_int
from shared.golang.times import parse_form_time
from shared.identity import Grant

DEFAULT_LIMIT = 100
DEFAULT_SORT = "-starttime"
_SORT_FIELD = re.compile(r"^-?[A-Za-z][A-Za-z0-9_.]*$")


def go_bool(raw: str, key: str) -> bool:
    """ajg/form's bool: strconv.ParseBool, an empty value is false."""
    if raw == "":
        return False
    try:
        return parse_bool(raw)
    except NumError as exc:
        raise InvalidFilter(f"{exc} ({key})") from exc


def _int(raw: str, key: str) -> int:
    try:
        return parse_int(raw)
    except NumError as exc:
        raise InvalidFilter(f"{exc} ({key})") from exc


def _time(raw: str, key: str) -> datetime:
    try:
        return parse_form_time(raw)
    except ValueError as exc:
        raise InvalidFilter(f'parsing time "{raw}": cannot parse ({key})') from exc


@dataclass(frozen=True)
class EventFilter:
    kind_names: tuple[str, ...] = ()
    kind_type: str = ""
    target_type: str = ""
    target_value: str = ""
    owner_type: str = ""
    owner_name: str = ""
    since: datetime | None = None
    until: datetime | None = None
    running: bool | None = None
    error_only: bool = False
    limit: int = DEFAULT_LIMIT
    skip: int = 0
    sort: str = DEFAULT_SORT

    @classmethod
    def parse(cls, args: Mapping[str, Sequence[str]]) -> EventFilter:
        """``args``: query key -> values (any key case)."""
        lowered: dict[str, list[str]] = {}
        for key, values in args.items():
            lowered.setdefault(key.lower(), []).extend(values)

        def first(key: str) -> str | None:
            values = lowered.get(key)
            return values[0] if values else None

        fields: dict[str, Any] = {
            "kind_names": tuple(v for v in lowered.get("kindname", []) if v),
        }
        for key, attr in (
            ("kindtype", "kind_type"),
            ("target.type", "target_type"),
            ("target.value", "target_value"),
            ("ownertype", "owner_type"),
            ("ownername", "owner_name"),
        ):
            fields[attr] = first(key) or ""
        if first("since"):
            fields["since"] = _time(first("since") or "", "since")
        if first("until"):
            fields["until"] = _time(first("until") or "", "until")
        running = first("running")
        if running:
            fields["running"] = go_bool(running, "running")
        error_only = first("erroronly")
        if error_only is not None:
            fields["error_only"] = go_bool(error_only, "erroronly")
        limit = first("limit")
        if limit:
            value = _int(limit, "limit")
            fields["limit"] = value if 0 < value <= DEFAULT_LIMIT else DEFAULT_LIMIT
        skip = first("skip")
        if skip:
            fields["skip"] = max(0, _int(skip, "skip"))
        sort = first("sort")
        if sort and _SORT_FIELD.fullmatch(sort):
            fields["sort"] = sort
        return cls(**fields)

    @property
    def sort_key(self) -> tuple[str, int]:
        """(storage field, 1 or -1)."""
        if self.sort.startswith("-"):
            return self.sort[1:], -1
        return self.sort, 1

    def matches(self, r: EventRecord) -> bool:
        """The reference semantics of the filter (the Mongo query must agree)."""
        targets = [r.target, *(e.target for e in r.extra_targets)]
        checks = (
            not self.kind_names or r.kind.name in self.kind_names,
            not self.kind_type or r.kind.type == self.kind_type,
            not self.target_type or self.target_type in [t.type for t in targets],
            not self.target_value or self.target_value in [t.value for t in targets],
            not self.owner_type or r.owner.type == self.owner_type,
            not self.owner_name or r.owner.name == self.owner_name,
            self.since is None or r.start_time >= self.since,
            self.until is None or r.start_time <= self.until,
            self.running is None or r.running == self.running,
            not (self.error_only and not r.error),
        )
        return all(checks)


# -- visibility ----------------------------------------------------------------


@dataclass(frozen=True)
class Visibility:
    """The caller's permissions grouped by scheme: scheme -> contexts (None = global)."""

    schemes: Mapping[str, tuple[tuple[str, str], ...] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, grants: Iterable[Grant]) -> Visibility:
        out: dict[str, list[tuple[str, str]] | None] = {}
        for g in grants:
            if g.ctx_type == "global":
                out[g.scheme] = None
                continue
            current = out.setdefault(g.scheme, [])
            if current is not None:
                current.append((g.ctx_type, g.ctx_value))
        return cls({k: None if v is None else tuple(v) for k, v in out.items()})

    @property
    def everything(self) -> bool:
        return "" in self.schemes and self.schemes[""] is None

    def allows(self, allowed: Allowed) -> bool:
        """tsuru's filter: the event's scheme *starts with* a held scheme (plain prefix)."""
        contexts = set(allowed.contexts)
        for held, held_contexts in self.schemes.items():
            if not allowed.scheme.startswith(held):
                continue
            if held_contexts is None or contexts.intersection(held_contexts):
                return True
        return False
