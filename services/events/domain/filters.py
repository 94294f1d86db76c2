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

    def matches(self, doc: Mapping[str, Any]) -> bool:
        kind = doc.get("kind") or {}
        owner = doc.get("owner") or {}
        target = doc.get("target") or {}
        extra = [e.get("target") or {} for e in doc.get("extratargets") or []]
        start = doc.get("starttime")
        if self.kind_names and kind.get("name") not in self.kind_names:
            return False
        if self.kind_type and kind.get("type") != self.kind_type:
            return False
        if self.target_type and self.target_type not in [t.get("type") for t in [target, *extra]]:
            return False
        if self.target_value and self.target_value not in [
            t.get("value") for t in [target, *extra]
        ]:
            return False
        if self.owner_type and owner.get("type") != self.owner_type:
            return False
        if self.owner_name and owner.get("name") != self.owner_name:
            return False
        if self.since is not None and (start is None or _aware(start) < self.since):
            return False
        if self.until is not None and (start is None or _aware(start) > self.until):
            return False
        if self.running is not None and bool(doc.get("running")) != self.running:
            return False
        return not (self.error_only and not doc.get("error"))


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo else t.replace(tzinfo=UTC)


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

    def allows(self, allowed: Mapping[str, Any] | None) -> bool:
        """tsuru's filter: the event's scheme *starts with* a held scheme (plain prefix)."""
        allowed = allowed or {}
        scheme = allowed.get("scheme", "")
        contexts = {
            (c.get("ctxtype", ""), c.get("value", "")) for c in allowed.get("contexts") or []
        }
        for held, held_contexts in self.schemes.items():
            if not scheme.startswith(held):
                continue
            if held_contexts is None or contexts.intersection(held_contexts):
                return True
        return False
