"""Small helpers over the API port shared by the dashboard's use cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.web.domain.errors import ApiError
from services.web.domain.session import Session
from services.web.domain.streams import Piece, empty_progress, progress
from services.web.operations.deps import Deps, Query, Upload


def fetch(deps: Deps, session: Session, path: str, query: Query | None = None) -> Any:
    """GET a JSON answer; tsuru's 204 (nothing to show) reads as None."""
    return deps.api.call(session.token, "GET", path, query=query).json()


def fetch_list(deps: Deps, session: Session, path: str, query: Query | None = None) -> list[Any]:
    found = fetch(deps, session, path, query)
    return found if isinstance(found, list) else []


def optional_list(deps: Deps, session: Session, path: str, query: Query | None = None) -> list[Any]:
    """A list that only decorates a page (filter choices): a refusal shows nothing."""
    try:
        return fetch_list(deps, session, path, query)
    except ApiError:
        return []


def send(
    deps: Deps,
    session: Session,
    method: str,
    path: str,
    *,
    form: Query | None = None,
    query: Query | None = None,
    json: Any = None,
) -> Any:
    return deps.api.call(session.token, method, path, form=form, query=query, json=json).json()


@contextmanager
def operation(
    deps: Deps,
    session: Session,
    method: str,
    path: str,
    *,
    form: Query | None = None,
    query: Query | None = None,
    upload: Upload | None = None,
    done: str = "done",
) -> Iterator[Iterator[Piece]]:
    """A long operation's output as pieces of text ending in its outcome.

    The API's refusal (before any output) raises ApiError from here, so the caller
    can show it next to the form that asked.
    """
    with deps.api.stream(
        session.token, method, path, form=form, query=query, upload=upload
    ) as answer:
        pieces = progress(answer.content_type, answer.chunks)
        if not answer.content_type:
            yield _maybe_empty(pieces, done)
        else:
            yield pieces


def _maybe_empty(pieces: Iterator[Piece], done: str) -> Iterator[Piece]:
    """An empty 200 (cname, swap ...) says nothing: show what was done."""
    said = False
    for piece in pieces:
        if piece.text.strip():
            said = True
        if piece.done and not said:
            yield from empty_progress(done)
            return
        yield piece
