"""How a dashboard route declares itself (access, answers) and shared view helpers.

Every dashboard route is ``@public`` for the identity layer: the gateway lets it
through without a token, and the dashboard checks the browser's own session (its
cookie) instead; the API calls it makes carry the user's token and are checked
there. Forms record no event here: the API call each one makes records its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from flask import Response, request

from services.web.api.render import go, live
from services.web.domain.errors import ApiError
from services.web.domain.streams import Piece
from shared.http import HTML, no_event, public
from shared.http.declare import declare_output

F = TypeVar("F", bound=Callable[..., Any])

SIGN_IN = "Not signed in: to the sign-in page"
FORM = "the API call the form makes records the event"
REFUSED = "The page again, the API's refusal next to the form that asked"

# What ``run`` starts: an API operation whose output is read as it comes.
Start = Callable[[], AbstractContextManager[Iterator[Piece]]]


def page(description: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view = public(view)
        view = declare_output(303, description=SIGN_IN)(view)
        view = declare_output(404, HTML, description="No such object (the API's 404)")(view)
        return declare_output(200, HTML, description=description)(view)

    return decorate


def form(description: str, *, streams: bool = False) -> Callable[[F], F]:
    """A form's target: 303 to the next page (or a live page of the operation's
    output), or the form's page again with the API's message (its status)."""

    def decorate(view: F) -> F:
        view = public(view)
        view = no_event(FORM)(view)
        view = declare_output(303, description=description)(view)
        if streams:
            view = declare_output(200, HTML, description="The operation's output, live")(view)
        for status in (400, 403, 404, 409):
            view = declare_output(status, HTML, description=REFUSED)(view)
        return view

    return decorate


def field(name: str, limit: int = 4096) -> str:
    """A form field, trimmed and bounded (the API checks the rest)."""
    return request.form.get(name, "").strip()[:limit]


def arg(name: str, limit: int = 512) -> str:
    return request.args.get(name, "").strip()[:limit]


def run(
    title: str,
    back: str,
    start: Start,
    refused: Callable[[ApiError], Response],
) -> Response:
    """Start an API operation; its output streams into a live page, or its refusal
    (before any output) goes back next to the form."""
    operation = start()
    try:
        pieces = operation.__enter__()
    except ApiError as exc:
        if exc.status == 401:
            raise
        return refused(exc)
    return live(title, back, operation, pieces)


def change(
    call: Callable[[], object], refused: Callable[[ApiError], Response], to: str, notice: str
) -> Response:
    """Make an API call that answers at once: 303 to ``to`` with ``notice``, or its
    refusal back next to the form (a 401 goes up: the session is gone)."""
    try:
        call()
    except ApiError as exc:
        if exc.status == 401:
            raise
        return refused(exc)
    return go(to, notice)
