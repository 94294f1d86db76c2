"""The webhook sender against real local servers: proxy_url and the insecure flag."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services.events.adapters.webhook_sender import HttpSender
from services.events.domain.outgoing import OutgoingRequest
from services.events.tests.receiver import Receiver

pytestmark = pytest.mark.integration


def test_proxy_url_receives_the_request_with_the_absolute_target() -> None:
    # The target host does not exist: only the proxy (a local receiver) is contacted.
    with Receiver() as proxy:
        req = OutgoingRequest(
            method="POST",
            url="http://hooks.invalid/in?x=1",
            headers=(("X-Ahoy", "Errrr"),),
            body=b"payload",
            proxy=proxy.url,
        )
        answer = HttpSender(timeout=10)(req)
        [got] = proxy.wait_for(1)
    assert answer.status == 200
    assert got.path == "http://hooks.invalid/in?x=1"
    assert got.headers["X-Ahoy"] == "Errrr"
    assert got.body == b"payload"


@pytest.fixture()
def tls_server(tmp_path: Path) -> Iterator[str]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/in"
    finally:
        server.shutdown()
        server.server_close()


def test_insecure_skips_certificate_verification(tls_server: str) -> None:
    base = OutgoingRequest(method="POST", url=tls_server, headers=(), body=b"{}")
    refused = HttpSender(timeout=10)(base)
    assert refused.status == 0
    assert "certificate" in refused.detail.lower()
    accepted = HttpSender(timeout=10)(
        OutgoingRequest(method="POST", url=tls_server, headers=(), body=b"{}", insecure=True)
    )
    assert accepted.status == 204


def test_only_gos_client_headers_are_added() -> None:
    # Go's client (tsuru, keep-alives disabled) adds Host, Accept-Encoding: gzip,
    # Connection: close and Content-Length for a body or a POST/PUT/PATCH; nothing else.
    with Receiver() as receiver:
        sender = HttpSender(timeout=10)
        ua = ("User-Agent", "tsuru-webhook-client/1.0")
        sender(
            OutgoingRequest("POST", receiver.url + "/p", (("X-Ahoy", "Errrr"), ua), b"ahoy {{ --")
        )
        sender(OutgoingRequest("DELETE", receiver.url + "/d", (ua,), None))
        sender(OutgoingRequest("GET", receiver.url + "/g", (ua,), b""))
        sender(OutgoingRequest("PUT", receiver.url + "/u", (ua,), b""))
        sender(OutgoingRequest("GET", receiver.url + "/e", (ua, ("accept-encoding", "br")), None))
        post, delete, get, put, own = receiver.wait_for(5)
    host = receiver.url.removeprefix("http://")
    base = {"Host": host, "User-Agent": "tsuru-webhook-client/1.0", "Connection": "close"}
    assert post.headers == {
        **base, "X-Ahoy": "Errrr", "Accept-Encoding": "gzip", "Content-Length": "10"
    }  # fmt: skip
    assert delete.headers == {**base, "Accept-Encoding": "gzip"}
    assert get.headers == {**base, "Accept-Encoding": "gzip"}
    assert put.headers == {**base, "Accept-Encoding": "gzip", "Content-Length": "0"}
    assert own.headers == {**base, "accept-encoding": "br"}
