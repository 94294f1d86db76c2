"""tsuru's response conventions (events-and-http.md §1.6): compact JSON + newline,
empty-bodied mutations without a content type, plain-text errors."""

from __future__ import annotations

from typing import Any

from flask import Response

from shared.golang.gojson import marshal

TEXT = "text/plain; charset=utf-8"


def dumps(obj: Any) -> str:
    """The body tsuru's Go encoder writes (compact, HTML-safe escapes)."""
    return marshal(obj)


def json_response(obj: Any, status: int = 200, *, newline: bool = True) -> Response:
    """``application/json`` exactly, compact, ending in ``\\n`` as Go's encoder writes."""
    body = dumps(obj) + ("\n" if newline else "")
    return Response(body, status=status, content_type="application/json")


def empty(status: int = 200) -> Response:
    """An empty body with no Content-Type (tsuru's plain ``w.WriteHeader``)."""
    resp = Response(b"", status=status)
    del resp.headers["Content-Type"]
    return resp


def text_error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    resp = Response(message + "\n", status=status, content_type=TEXT)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp
