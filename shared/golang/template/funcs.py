"""The predefined functions of ``text/template`` and its notion of truth."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from shared.golang.fmt import sprint, sprintf, sprintln
from shared.golang.values import GoStruct


class FuncError(Exception):
    """A function failed (bad index, incomparable operands): the execution fails."""


def truth(value: Any) -> bool:
    """``if``'s test: false, 0, nil, and empty strings, slices and maps are false."""
    if isinstance(value, GoStruct):
        return True
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    return True


def _index(value: Any, *keys: Any) -> Any:
    for k in keys:
        try:
            value = value.get(k) if isinstance(value, GoStruct) else value[k]
        except (KeyError, IndexError, TypeError) as exc:
            raise FuncError(f"index: {exc}") from exc
    return value


def _and(*args: Any) -> Any:
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:
    for a in args:
        if truth(a):
            return a
    return args[-1]


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        try:
            return op(a, b)
        except TypeError as exc:
            raise FuncError(f"incompatible types for comparison: {exc}") from exc

    return compare


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
_JS = {
    "\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026",
    "=": "\\u003D",
}  # fmt: skip


def html_escape(s: str) -> str:
    """``template.HTMLEscapeString``."""
    return "".join(_HTML.get(c, c) for c in s)


def js_escape(s: str) -> str:
    """``template.JSEscapeString``: quotes, <>&= and non-printable runes as \\uXXXX."""
    out = []
    for c in s:
        if c in _JS:
            out.append(_JS[c])
        elif c < " " or (c >= "\x80" and not c.isprintable()):
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


FUNCS: dict[str, Callable[..., Any]] = {
    "not": lambda a: not truth(a),
    "and": _and,
    "or": _or,
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "len": lambda a: len(a),
    "index": _index,
    "print": sprint,
    "printf": sprintf,
    "println": sprintln,
    "html": lambda *a: html_escape(sprint(*a)),
    "js": lambda *a: js_escape(sprint(*a)),
    "urlquery": lambda *a: urllib.parse.quote_plus(sprint(*a)),
}
