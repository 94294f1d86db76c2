"""How the architecture tests call every route of a service (tests/architecture).

Each service provides ``services/<ctx>/tests/routewalk.py`` with ``walk() ->
RouteWalk``: how to build its app on fakes with a small world seeded, the caller
holding every permission, and a sample request for each route whose default call
(path parameters ``x``, no body) would not reach its permission check or its event.
The tests then call every route of the app, so a new route is checked the day it is
added, with no table to update unless its default call falls short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from shared.events import EventRecord
from shared.identity import Grant, Identity
from shared.testing.events import FakeRecorder
from shared.testing.identity import pending


@dataclass(frozen=True)
class Sample:
    """One request: ``path`` may carry a query string; ``data`` is a form body."""

    path: str
    data: Mapping[str, Any] | None = None
    json: Any = None


def root_user(email: str = "admin@example.com") -> Identity:
    """A session user holding the root permission (every check passes)."""
    return Identity(
        kind="user",
        name=email,
        email=email,
        token_kind="session",
        grants=(Grant(""), Grant("user", "user", email)),
    )


def recorded(app: Flask) -> list[EventRecord]:
    """The events the app's FakeRecorder stored so far."""
    recorder = app.extensions["tsubame"]["deps"].recorder
    assert isinstance(recorder, FakeRecorder), "build the walked app with a FakeRecorder"
    return recorder.records


@dataclass
class RouteWalk:
    make_app: Callable[[], Flask]  # a fresh app on fakes, its world seeded
    actor: Identity = field(default_factory=root_user)
    samples: Mapping[str, Sample] = field(default_factory=dict)  # "METHOD rule" -> request
    public: Mapping[str, str] = field(default_factory=dict)  # "METHODS rule" -> why public

    def call(self, app: Flask, method: str, rule: str, identity: Identity | None) -> TestResponse:
        sample = self.samples.get(f"{method} {rule}") or Sample(default_path(rule))
        headers = {}
        if identity is not None:
            # Signed for this very request by the app's SigningClient, as the gateway does.
            headers = pending(identity, app.config["TSUBAME_SETTINGS"].identity_secret)
        return app.test_client().open(
            sample.path, method=method, headers=headers, data=sample.data, json=sample.json
        )


def default_path(rule: str) -> str:
    """The rule with every ``<param>`` (any converter) filled with ``x``."""
    out, rest = "", rule
    while "<" in rest:
        head, _, tail = rest.partition("<")
        _, _, rest = tail.partition(">")
        out += head + "x"
    return out + rest
