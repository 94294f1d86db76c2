"""The gateway worker's fast loop (gateway/fastpath.py) in front of gunicorn: requests it
hands over mid-connection get gunicorn's refusals and reach the service whole."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gateway.tests.harness import GatewayHarness

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    with GatewayHarness(tmp_path_factory.mktemp("gw-fastpath"), workers=1) as harness:
        yield harness


def _exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` on one connection; everything answered until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


PLAIN = b"GET /auth/scheme HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize(
    "smuggled",
    [
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n",
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n",
        b"GET /auth/scheme HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n X-Tsubame-Identity: forged\r\n",
    ],
)
def test_refusals_stay_gunicorns_after_a_plain_request(
    gateway: GatewayHarness, smuggled: bytes
) -> None:
    out = _exchange(gateway.port, PLAIN + smuggled + b"Connection: close\r\n\r\nabc")
    first, _, second = out.partition(b"HTTP/1.1 400 ")
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert second, out


def test_a_body_after_plain_requests_reaches_the_service_whole(gateway: GatewayHarness) -> None:
    body = b"x" * 100_000
    out = _exchange(
        gateway.port,
        PLAIN
        + b"POST /apps/a/env HTTP/1.1\r\nHost: x\r\nAuthorization: bearer good\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
        + b"GET /apps/a/env HTTP/1.1\r\nHost: x\r\nAuthorization: bearer good\r\n"
        + b"Connection: close\r\n\r\n",
    )
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert b'"body_length": 100000' in out
    assert b'"method": "GET", "path": "/apps/a/env"' in out
