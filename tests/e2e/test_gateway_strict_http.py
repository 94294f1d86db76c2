"""The public entry point refuses ambiguous HTTP framing (request smuggling, header
injection) before anything reaches a service; raw requests over a socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gateway.tests.harness import GatewayHarness


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    with GatewayHarness(tmp_path_factory.mktemp("gw-strict")) as harness:
        yield harness


def raw(gateway: GatewayHarness, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_plain_request_passes(gateway: GatewayHarness) -> None:
    answer = raw(gateway, b"GET /auth/scheme HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status(answer) == 200


@pytest.mark.parametrize(
    "head",
    [
        # Two different lengths: which one frames the body is ambiguous.
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n",
        # Length together with chunked framing.
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n",
    ],
)
def test_conflicting_body_framing_is_refused(gateway: GatewayHarness, head: bytes) -> None:
    answer = raw(gateway, head + b"Connection: close\r\n\r\nabc")
    assert status(answer) == 400


def test_folded_header_lines_are_refused(gateway: GatewayHarness) -> None:
    answer = raw(
        gateway,
        b"GET /auth/scheme HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n X-Tsubame-Identity: forged\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert status(answer) == 400
