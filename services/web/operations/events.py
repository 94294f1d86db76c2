"""The event log: filtered listing and one event with its log."""

from __future__ import annotations

from typing import Any

from services.web.domain.session import Session
from services.web.operations.calls import fetch, fetch_list
from services.web.operations.deps import Deps, api_path

# Dashboard filter -> tsuru's query key (GET /events).
FILTERS = {
    "kind": "kindname",
    "target_type": "target.type",
    "target_value": "target.value",
    "owner": "ownername",
    "running": "running",
    "errors": "erroronly",
}


def events(deps: Deps, session: Session, filters: dict[str, str], skip: int) -> list[Any]:
    query = {FILTERS[k]: v for k, v in filters.items() if k in FILTERS and v}
    query["limit"] = "50"
    if skip > 0:
        query["skip"] = str(skip)
    return fetch_list(deps, session, "/events", query)


def event(deps: Deps, session: Session, uuid: str) -> Any:
    return fetch(deps, session, api_path("/events/{}", uuid)) or {}
