"""Which instances a request goes to (gateway/upstream.py): the ones up first, then,
when every one of them failed where the request may go on, those marked down.

Real sockets on 127.0.0.1: a port nobody listens on stands for an instance killed
while still marked up (its connection is refused: nothing was sent), a small HTTP
server in a thread for an instance the registry still marks down (it restarted).
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway.requestbody import RequestBody
from gateway.upstream import ServiceUnavailable, Upstream
from shared.instances import DOWN, UP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append(self.command)  # type: ignore[attr-defined]
        body = b"alive"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


Serve = Callable[[], tuple[str, list[str]]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Starts instances that answer; each: (its URL, the methods it was sent)."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> tuple[str, list[str]]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.seen = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _refusing_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed: connections are refused


def _upstream(states: list[tuple[str, str]]) -> Upstream:
    upstream = Upstream("auth", [], timeout=5, connect_timeout=2)
    upstream.update(states)
    return upstream


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_when_every_instance_up_is_gone_one_marked_down_answers(serve: Serve, method: str) -> None:
    url, seen = serve()
    upstream = _upstream([(_refusing_url(), UP), (url, DOWN)])
    resp = upstream.send(method, "/teams", {}, RequestBody(b"{}" if method == "POST" else None))
    try:
        assert (resp.status, resp.read()) == (200, b"alive")
        assert resp.instance_url == url
    finally:
        resp.release()
    assert seen == [method]  # sent once: the refused connection carried nothing


def test_an_instance_up_is_asked_before_those_marked_down(serve: Serve) -> None:
    (url, seen), (other_url, other_seen) = serve(), serve()
    upstream = _upstream([(url, UP), (other_url, DOWN)])
    for _ in range(4):
        resp = upstream.send("GET", "/teams", {}, RequestBody(None))
        resp.read()
        resp.release()
    assert (len(seen), other_seen) == (4, [])


def test_nothing_answers_is_unavailable() -> None:
    upstream = _upstream([(_refusing_url(), UP), (_refusing_url(), DOWN)])
    with pytest.raises(ServiceUnavailable):
        upstream.send("GET", "/teams", {}, RequestBody(None))
    assert sum(i.failed for i in upstream.instances) == 3  # the up one twice, then the down


def test_a_request_an_instance_may_have_acted_on_is_not_sent_to_one_marked_down(
    serve: Serve,
) -> None:
    """The instance up reads the POST and dies without answering: it may have acted on
    it, so the POST is never sent again, not even to an instance marked down."""
    listener = socket.create_server(("127.0.0.1", 0))

    def read_then_die() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=read_then_die, daemon=True)
    thread.start()
    url, seen = serve()
    upstream = _upstream([(f"http://127.0.0.1:{listener.getsockname()[1]}", UP), (url, DOWN)])
    try:
        with pytest.raises(ServiceUnavailable):
            upstream.send("POST", "/teams", {}, RequestBody(b"{}"))
        assert seen == []
        thread.join(5)
        listener.close()  # gone: the GET's connection is refused, nothing was sent
        resp = upstream.send("GET", "/teams", {}, RequestBody(None))
        resp.release()
        assert seen == ["GET"]
    finally:
        thread.join(5)
        listener.close()


def test_a_streamed_body_partly_read_is_never_sent_again(serve: Serve) -> None:
    """The first instance reads part of a streamed PUT body and dies: the rest of the
    client's body is all that is left (its first bytes are gone), so even an idempotent
    request is not sent to the next instance: 502, the second instance sees nothing."""
    listener = socket.create_server(("127.0.0.1", 0))

    def read_some_then_die() -> None:
        conn, _ = listener.accept()
        got = 0
        while got < 128 * 1024:
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()  # a reset: the client's next send fails

    thread = threading.Thread(target=read_some_then_die, daemon=True)
    thread.start()
    url, seen = serve()
    upstream = _upstream([(f"http://127.0.0.1:{listener.getsockname()[1]}", UP), (url, UP)])
    size = 8 * 1024 * 1024
    body = RequestBody(stream=io.BytesIO(b"x" * size), length=size)
    try:
        with pytest.raises(ServiceUnavailable):
            upstream.send("PUT", "/apps/a/env", {}, body)
        assert body.started and not body.replayable
        assert seen == []
    finally:
        thread.join(5)
        listener.close()
