"""An app's log: the last lines, and following new ones as they come."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.web.domain.session import Session
from services.web.operations.calls import fetch
from services.web.operations.deps import Deps, api_path

MAX_LINES = 5000


def log_query(lines: int, source: str, unit: str) -> dict[str, str]:
    query = {"lines": str(lines)}
    if source:
        query["source"] = source
    if unit:
        query["unit"] = unit
    return query


def recent(deps: Deps, session: Session, app: str, lines: int, source: str, unit: str) -> list[Any]:
    """``tsuru app-log -l N``: the first (only) line of the answer is the array."""
    lines = max(1, min(lines, MAX_LINES))
    reply = deps.api.call(
        session.token, "GET", api_path("/apps/{}/log", app), query=log_query(lines, source, unit)
    )
    entries: list[Any] = []
    for line in reply.body.splitlines():
        if line.strip():
            found = json.loads(line)
            if isinstance(found, list):
                entries.extend(found)
    return entries


@contextmanager
def follow(
    deps: Deps, session: Session, app: str, source: str, unit: str
) -> Iterator[Iterator[dict[str, Any]]]:
    """``tsuru app-log -f`` from now on: each new entry as it arrives."""
    # tsuru: a negative count sends no past line, then every new one.
    query = {**log_query(-1, source, unit), "follow": "1"}
    with deps.api.stream(
        session.token,
        "GET",
        api_path("/apps/{}/log", app),
        query=query,
        read_timeout=deps.config.follow_seconds,
    ) as answer:
        yield _entries(answer.chunks)


def _entries(chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                found = json.loads(line)
            except ValueError:
                continue
            for entry in found if isinstance(found, list) else [found]:
                if isinstance(entry, dict):
                    yield entry


def app_exists(deps: Deps, session: Session, app: str) -> Any:
    return fetch(deps, session, api_path("/apps/{}", app))
