"""What a proxied request and its answer carry on: the header rules of the forwarding
path, shared by the API (gateway/app.py) and app traffic (gateway/apptraffic.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .responses import RESPONSE_DROP, connection_tokens
from .upstream import UpstreamResponse


class RequestHeaders:
    """A request's headers to forward, from its WSGI environ: ``HTTP_X_FOO_BAR`` ->
    ``X-Foo-Bar``, the keys ``dropped`` says so left out, and those the request's
    ``Connection`` header names; ``Content-Type`` kept.

    Which keys go and under what name is decided once per key and remembered (the
    same few come with every request; bounded).
    """

    MEMO_MAX = 1024

    def __init__(self, dropped: Callable[[str], bool]) -> None:
        self._dropped = dropped
        self._names: dict[str, str] = {}  # environ key -> header name, "" for none

    def __call__(self, environ: dict[str, Any]) -> dict[str, str]:
        names = self._names
        headers: dict[str, str] = {}
        for key, value in environ.items():
            name = names.get(key)
            if name is None:
                name = self._name(key)
            if name:
                headers[name] = value
        connection = environ.get("HTTP_CONNECTION")
        if connection:
            declared = connection_tokens(connection)
            headers = {k: v for k, v in headers.items() if k.lower() not in declared}
        content_type = environ.get("CONTENT_TYPE")
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _name(self, key: str) -> str:
        name = ""
        if key[:5] == "HTTP_" and not self._dropped(key):
            name = "-".join(part.capitalize() for part in key[5:].split("_"))
        if len(self._names) < self.MEMO_MAX:
            self._names[key] = name
        return name


def answer_headers(resp: UpstreamResponse) -> list[tuple[str, str]]:
    """An upstream answer's headers to pass on: not hop-by-hop, nor those its
    ``Connection`` header names, nor those the gateway writes itself."""
    drop = RESPONSE_DROP
    connection = resp.connection_header
    if connection:
        declared = connection_tokens(connection)
        if not declared <= drop:
            drop = drop | declared
    return [(name, value) for name, value in resp.headers if name.lower() not in drop]
