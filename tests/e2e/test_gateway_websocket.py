"""Upgrade requests (tsuru's websockets) are spliced through the gateway after a 101."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from gateway.tests.harness import SECRET, GatewayHarness
from shared.identity import verify

pytestmark = pytest.mark.e2e


class UpgradingService:
    """A raw HTTP/1.1 service: ``/apps/denied/shell`` -> 403, anything else -> 101 and
    then an echo that upper-cases what it receives."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data)
            if data.startswith(b"GET /apps/denied/shell "):
                conn.sendall(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Length: 6\r\n\r\nnope.\n"
                )
                return
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                b"ready\n"
            )
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                conn.sendall(chunk.upper())

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def upstream() -> Iterator[UpgradingService]:
    service = UpgradingService()
    yield service
    service.close()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: UpgradingService
) -> Iterator[GatewayHarness]:
    env = {"TSUBAME_APPS_URLS": f"http://127.0.0.1:{upstream.port}"}
    with GatewayHarness(tmp_path_factory.mktemp("gw-ws"), env=env, workers=1) as harness:
        yield harness


def _handshake(gateway: GatewayHarness, path: str, token: str = "good") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: tsuru.example.com\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: bearer {token}\r\n\r\n".encode()
    )
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_upgrade_is_spliced_both_ways(gateway: GatewayHarness, upstream: UpgradingService) -> None:
    with _handshake(gateway, "/1.0/apps/myapp/shell?width=80") as sock:
        head = _read_until(sock, b"ready\n")
        assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert b"\r\nUpgrade: websocket\r\n" in head
        assert b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head
        assert b"\r\nSupported-Tsuru: 1.0.1\r\n" in head
        assert head.endswith(b"\r\n\r\nready\n")
        sock.sendall(b"echo hello\n")
        assert _read_until(sock, b"\n") == b"ECHO HELLO\n"
        sock.sendall(b"again\n")
        assert _read_until(sock, b"\n") == b"AGAIN\n"

    seen = upstream.requests[-1].decode()
    assert seen.startswith("GET /apps/myapp/shell?width=80 HTTP/1.1\r\n")
    assert "\r\nUpgrade: websocket\r\n" in seen
    assert "\r\nConnection: Upgrade\r\n" in seen
    assert "\r\nSec-Websocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" in seen
    identity_line = next(x for x in seen.split("\r\n") if x.startswith("X-Tsubame-Identity: "))
    header = identity_line.split(": ", 1)[1]
    identity = verify(header, SECRET.encode(), method="GET", path="/apps/myapp/shell")
    assert identity.name == "good@example.com"


def test_refused_upgrade_is_an_ordinary_answer(gateway: GatewayHarness) -> None:
    with _handshake(gateway, "/apps/denied/shell") as sock:
        answer = _read_until(sock, b"nope.\n")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert answer.endswith(b"\r\n\r\nnope.\n")


def test_the_gateway_keeps_serving_after_tunnels(gateway: GatewayHarness) -> None:
    for _ in range(3):
        with _handshake(gateway, "/logs") as sock:
            assert _read_until(sock, b"ready\n").startswith(b"HTTP/1.1 101 ")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_until(sock, b"WORKING").startswith(b"HTTP/1.1 200 OK\r\n")
