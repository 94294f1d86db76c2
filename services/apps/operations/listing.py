"""``GET /apps`` (apps.md §1.2): only apps the caller may read, every filter, units
from one provisioner call per page of apps (no per-app round trip)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services.apps.domain import rules
from services.apps.domain.models import App, AppQuery
from services.apps.operations.deps import Deps
from shared.errors import TsubameError
from shared.identity import Identity
from shared.permissions import scope

PAGE = 500


@dataclass(frozen=True)
class ListFilter:
    name: str = ""
    platform: str = ""
    team_owner: str = ""
    owner: str = ""
    pool: str = ""
    locked: bool = False
    statuses: tuple[str, ...] | None = None  # None: not filtered
    tags: tuple[str, ...] = ()
    simplified: bool = False


@dataclass
class Listed:
    app: App
    units: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def query_for(identity: Identity, flt: ListFilter) -> AppQuery | None:
    """The store query, or None when the caller may read no app (tsuru's 204)."""
    contexts = scope(identity, "app.read")
    if not contexts:
        return None
    everything = any(t == "global" for t, _ in contexts)
    platform, version = "", None
    if flt.platform:
        platform, _, raw_version = flt.platform.partition(":")
        if raw_version:
            version = "" if raw_version == "latest" else raw_version
    return AppQuery(
        name_matches=rules.name_matcher(flt.name) if flt.name else None,
        platform=platform,
        platform_version=version,
        team_owner=flt.team_owner,
        owner=flt.owner,
        pool=flt.pool,
        tags=tuple(rules.clean_tags(flt.tags)),
        everything=everything,
        visible_teams=tuple(v for t, v in contexts if t == "team"),
        visible_apps=tuple(v for t, v in contexts if t == "app"),
        visible_pools=tuple(v for t, v in contexts if t == "pool"),
    )


def list_apps(deps: Deps, identity: Identity, flt: ListFilter) -> Iterator[Listed]:
    """Matching apps in storage order, a page at a time."""
    q = query_for(identity, flt)
    if q is None or flt.locked:  # 1.11 takes no legacy lock: no app is ever "locked"
        return
    want_units = not flt.simplified or flt.statuses is not None
    for page in deps.stores.apps.query(q, PAGE):
        listed = [Listed(app) for app in page]
        if want_units:
            _fill_units(deps, listed)
        for item in listed:
            if flt.statuses is not None and not any(
                u.get("Status") in flt.statuses for u in item.units
            ):
                continue
            if flt.simplified:
                item.units = []
            yield item


def _fill_units(deps: Deps, listed: list[Listed]) -> None:
    try:
        found = deps.provisioner.units([item.app.name for item in listed])
    except TsubameError as exc:
        for item in listed:
            item.error = f"unable to list app units: {exc.message}"
        return
    for item in listed:
        got = found.get(item.app.name)
        if got is None:
            continue
        item.units = got.units
        if got.error:
            item.error = f"unable to list app units: {got.error}"
