"""``GET /logs`` (apps.md §7.3) on a fake socket."""

from __future__ import annotations

import json

from services.apps.domain.models import App
from services.apps.operations.log_intake import intake
from services.apps.tests.fakes import fake_deps
from services.apps.tests.unit.conftest import app_token, user


class Gone(Exception):
    pass


class FakeSocket:
    def __init__(self, *messages: str) -> None:
        self.incoming = list(messages)
        self.sent: list[dict[str, str]] = []
        self.closed = False

    def receive(self) -> str:
        if not self.incoming:
            raise Gone()
        return self.incoming.pop(0)

    def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = True


def test_refusals_are_error_frames():
    deps = fake_deps()
    for identity, error in (
        (None, "wslogs: no token"),
        (user(), 'wslogs: invalid token app name: ""'),
        (app_token("shop"), 'wslogs: invalid token app name: "shop"'),
    ):
        ws = FakeSocket('{"Date": "d", "AppName": "shop", "Message": "m"}')
        intake(deps, identity, ws, Gone)
        assert (ws.sent, ws.closed) == ([{"error": error}], True)
    assert deps.stores.logs.tail("shop", 0) == []


def test_the_internal_token_streams_entries_into_each_apps_log():
    deps = fake_deps()
    deps.stores.apps.add(App("shop"))
    ws = FakeSocket(
        json.dumps(
            {
                "Date": "2026-01-01T00:00:00Z",
                "AppName": "shop",
                "Message": "hi",
                "Source": "web",
                "Unit": "u1",
            }
        ),  # fmt: skip
        json.dumps({"Date": "2026-01-01T00:00:00Z", "AppName": "shop"}),  # no message: skipped
        json.dumps({"Date": "2026-01-01T00:00:00Z", "AppName": "ghost", "Message": "x"}),
        "not json",
    )
    intake(deps, app_token("tsr"), ws, Gone)
    assert ws.sent == [{"error": ""}] and ws.closed
    assert [(x.message, x.source, x.unit) for x in deps.stores.logs.tail("shop", 0)] == [
        ("hi", "web", "u1")
    ]
