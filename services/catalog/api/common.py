"""What several catalog views share: text bodies, event custom data without secrets."""

from __future__ import annotations

from typing import Any

from flask import Response

from shared.http import input_fields

TEXT = "text/plain; charset=utf-8"
SECRET_SUFFIXES = ("password", "token")


def text(body: str, status: int = 200) -> Response:
    """A body tsuru writes without a Content-Type: Go sniffs ``text/plain``. Always
    plain text here (with nosniff): a service doc is user text, never a page."""
    resp = Response(body, status=status, content_type=TEXT)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def event_fields() -> list[dict[str, Any]]:
    """The request's fields for the event, passwords and tokens masked (tsuru kept a
    broker's credentials and a JSON body's service password in the event log)."""
    out = []
    for field in input_fields():
        name = str(field.get("name", "")).lower()
        if name.endswith(SECRET_SUFFIXES):
            field = {"name": field["name"], "value": "*****"}
        out.append(field)
    return out
