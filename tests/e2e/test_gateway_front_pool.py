"""The front's keep-alive pool against an instance that closes idle connections
(gateway/frontup.py): a pooled connection the instance closed as the request went out
is replaced by a new one (the same instance, no try used up), and one idle for
REUSE_IDLE is not used again. The auth service here is a raw server of the test's own,
so what each of its connections carried is known."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.instances import REUSE_IDLE
from gateway.tests.harness import GatewayHarness, free_port, raw_answers

pytestmark = pytest.mark.e2e

_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
    b'{"name":"native"}'
)


class _Instance:
    """Answers GET /auth/scheme; ``one_each``: only the first request of a connection
    (the next one closes it unanswered, as a server closing an idle connection just as
    a request comes); ``delay``: seconds before each answer."""

    def __init__(self) -> None:
        self.port = free_port()
        self.one_each = False
        self.delay = 0.0
        self.connections: list[int] = []  # requests for /auth/scheme, per connection
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        index = None
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                if not head.startswith(b"GET /auth/scheme "):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                    continue
                with self.lock:
                    if index is None:
                        index = len(self.connections)
                        self.connections.append(0)
                    self.connections[index] += 1
                    served = self.connections[index]
                if self.one_each and served > 1:
                    return  # closed unanswered
                time.sleep(self.delay)
                conn.sendall(_ANSWER)

    def close(self) -> None:
        self.server.close()


@pytest.fixture(scope="module")
def instance() -> Iterator[_Instance]:
    server = _Instance()
    yield server
    server.close()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, instance: _Instance
) -> Iterator[GatewayHarness]:
    env = {"TSUBAME_AUTH_URLS": f"http://127.0.0.1:{instance.port}"}
    root: Path = tmp_path_factory.mktemp("gw-front-pool")
    with GatewayHarness(root, workers=1, front=True, env=env) as harness:
        yield harness


def _scheme(gateway: GatewayHarness) -> tuple[bytes, dict[str, str], bytes]:
    request = b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\n\r\n"
    (answer,) = raw_answers(gateway.port, request, 1)
    return answer


def test_pooled_connections_the_instance_closed_are_replaced(
    gateway: GatewayHarness, instance: _Instance
) -> None:
    instance.one_each, instance.delay = True, 0.3
    before = len(instance.connections)
    try:
        # Two requests at once: two connections to the instance, both pooled after.
        got: list[bytes] = []
        pair = [threading.Thread(target=lambda: got.append(_scheme(gateway)[0])) for _ in "ab"]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join(10)
        assert got == [b"HTTP/1.1 200 OK"] * 2
        assert len(instance.connections) == before + 2
        # Both closed by the instance as the next request goes out: one try for the
        # instance and one more would both meet a closed one; a new connection serves it.
        status, _, body = _scheme(gateway)
        assert status == b"HTTP/1.1 200 OK", (status, body)
        assert body == b'{"name":"native"}'
        assert len(instance.connections) == before + 3
    finally:
        instance.one_each, instance.delay = False, 0.0


def test_a_connection_idle_too_long_is_not_used_again(
    gateway: GatewayHarness, instance: _Instance
) -> None:
    assert _scheme(gateway)[0] == b"HTTP/1.1 200 OK"
    before = len(instance.connections)
    assert _scheme(gateway)[0] == b"HTTP/1.1 200 OK"
    assert len(instance.connections) == before  # pooled, used again at once
    time.sleep(REUSE_IDLE + 0.3)
    assert _scheme(gateway)[0] == b"HTTP/1.1 200 OK"
    assert len(instance.connections) == before + 1
