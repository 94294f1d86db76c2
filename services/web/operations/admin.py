"""Pages for administrators: pools, plans, platforms, nodes and their units."""

from __future__ import annotations

from typing import Any

from services.web.domain.session import Session
from services.web.operations.calls import fetch, fetch_list
from services.web.operations.deps import Deps, api_path

LISTS = {"pools": "/pools", "plans": "/plans", "platforms": "/platforms"}


def listing(deps: Deps, session: Session, what: str) -> list[Any]:
    return fetch_list(deps, session, LISTS[what])


def nodes(deps: Deps, session: Session) -> list[Any]:
    found = fetch(deps, session, "/node") or {}
    return list(found.get("nodes") or []) if isinstance(found, dict) else []


def node_units(deps: Deps, session: Session, address: str) -> list[Any]:
    # The address is the rest of the path in tsuru's node routes (slashes included).
    path = "/node/" + api_path("{}", address) + "/containers"
    return fetch_list(deps, session, path)
