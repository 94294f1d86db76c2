"""The dashboard's API calls carry the page request's id to the gateway."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.web.adapters.tsuru_api import TsuruApi
from shared import requestid


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(self.headers.get("X-Request-Id"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_api_calls_carry_the_bound_request_id(gateway: tuple[str, list[str | None]]) -> None:
    url, seen = gateway
    api = TsuruApi(url)
    with requestid.bound("page-1"):
        api.call("tok", "GET", "/apps")
    with requestid.bound(None):
        api.call("tok", "GET", "/apps")
    assert seen == ["page-1", None]
