"""Input that parses but cannot be kept: refused with 400 before anything is stored.

* JSON nested deeper than ``MAX_JSON_DEPTH`` (Python's decoder, and every walk over
  the value afterwards, would exhaust the stack: a 500 with a traceback);
* text that is not valid UTF-8 once decoded: invalid bytes or percent-escapes in
  the path, the query or a form body, and lone surrogates (``"\\ud800"``) in JSON,
  which no database or response can encode.

tsuru (Go) keeps such bytes as they come; we refuse them (docs/compatibility.md).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

MAX_JSON_DEPTH = 100
MALFORMED_TEXT = "invalid request: text must be valid UTF-8"


class HostileJson(ValueError):
    pass


def load_json(raw: bytes | str) -> Any:
    """``json.loads`` that refuses deep nesting and lone surrogates (HostileJson)."""
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise HostileJson(f"nesting deeper than {MAX_JSON_DEPTH} levels") from exc
    _check(data)
    return data


def _check(data: Any) -> None:
    # Iterative: the walk itself must not recurse on hostile depth.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _encodable(value)
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise HostileJson(f"nesting deeper than {MAX_JSON_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _encodable(key)
                stack.append((item, depth + 1))


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise HostileJson("invalid UTF-8 text (lone surrogate)") from exc


def valid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def valid_urlencoded(raw: bytes | str) -> bool:
    """Every key and value of ``a=1&b=2`` decodes to valid UTF-8 (``+`` is a space)."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1", "replace")
    for pair in raw.split(b"&"):
        if pair and not valid_utf8(unquote_to_bytes(pair.replace(b"+", b" "))):
            return False
    return True
