"""The HTTP adapter asking apps/catalog whether a team is still referenced."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.auth.adapters.team_usage import HttpTeamUsage
from shared.client import InternalClient
from shared.errors import ServerError
from shared.identity import IDENTITY_HEADER, verify

pytestmark = pytest.mark.integration

SECRET = b"usage-test-secret-0123456789"
ANSWERS: dict[str, tuple[int, bytes]] = {
    "/internal/teams/busy/usage": (200, json.dumps({"apps": ["a1", "a2"]}).encode()),
    "/internal/teams/free/usage": (200, b'{"apps": []}'),
    "/internal/teams/unbuilt/usage": (501, b"not built"),
    "/internal/teams/broken/usage": (500, b"boom"),
}


class Handler(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        ident = verify(self.headers[IDENTITY_HEADER], SECRET, method="GET", path=self.path)
        self.seen.append(f"{ident.kind}:{ident.name}")
        status, body = ANSWERS.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def client(*urls: str) -> InternalClient:
    return InternalClient("apps", urls, secret=SECRET, caller="auth", timeout=2)


def test_answers(server: str) -> None:
    usage = HttpTeamUsage(client(server), client())
    assert usage.apps("busy") == ["a1", "a2"]
    assert usage.apps("free") == []
    assert usage.apps("unbuilt") == []
    assert usage.apps("unknown") == []
    assert usage.service_instances("busy") == []  # catalog not configured
    assert set(Handler.seen) == {"internal:auth"}
    with pytest.raises(ServerError):
        usage.apps("broken")


def test_unreachable_context_refuses() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    usage = HttpTeamUsage(client(f"http://127.0.0.1:{port}"), client())
    with pytest.raises(ServerError):
        usage.apps("any")
