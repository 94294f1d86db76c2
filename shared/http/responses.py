"""tsuru's response conventions (events-and-http.md §1.6): compact JSON + newline,
empty-bodied mutations without a content type, plain-text errors."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

TEXT = "text/plain; charset=utf-8"


# Go's encoding/json escapes these inside strings (HTML safety); clients decode both
# forms, this keeps bodies byte-compatible with tsuru's. They only occur in strings.
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).translate(_GO_ESCAPES)


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
