"""Responses the gateway writes itself, and the header rules of a proxy."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

TEXT = "text/plain; charset=utf-8"
Headers = list[tuple[str, str]]

# tsuru's minimum client versions, on every routed response (events-and-http.md §1.8).
SUPPORTED: Headers = [
    ("Supported-Tsuru", "1.0.1"),
    ("Supported-Crane", "1.0.0"),
    ("Supported-Tsuru-Admin", "1.0.0"),
]
WWW_AUTHENTICATE = 'Bearer realm="tsuru" scope="tsuru"'

# RFC 9110 §7.6.1 hop-by-hop headers, plus those the proxy itself owns (framing is
# redone by gunicorn; Date and Server are written by gunicorn again).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The service echoes the request id; the gateway answers it itself (gateway/wsgi.py).
RESPONSE_DROP = HOP_BY_HOP | {"date", "server", "x-request-id"}


def status_line(code: int, reason: str = "") -> str:
    if not reason:
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Unknown"
    return f"{code} {reason}"


def connection_tokens(value: str | None) -> set[str]:
    """Header names a ``Connection`` header declares hop-by-hop."""
    if not value:
        return set()
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def text(
    status: int, message: str, extra: Iterable[tuple[str, str]] = ()
) -> tuple[str, Headers, bytes]:
    """A tsuru text error: plain text, ``nosniff``, the message and a newline."""
    body = (message + "\n").encode()
    headers = [
        ("Content-Type", TEXT),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Length", str(len(body))),
        *extra,
    ]
    return status_line(status), headers, body
