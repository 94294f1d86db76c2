"""The upstream HTTP/1.1 client against scripted peers (a socketpair, no network).

Every test runs twice: the client on a standard socket, and on gevent's, as in the
worker (gateway/sockio.py's reads and writes); the peer is a thread either way.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import gevent.socket
import pytest

from gateway.httpclient import Connection, NoAnswer, NotSent, ProtocolError


def _read_request(peer: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = peer.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if b"Content-Length: " in head:
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        while len(rest) < length:
            rest += peer.recv(65536)
    elif b"Transfer-Encoding: chunked" in head:
        while not rest.endswith(b"0\r\n\r\n"):
            rest += peer.recv(65536)
    return head + b"\r\n\r\n" + rest


class Peer:
    """Runs ``script(peer_socket)`` in a thread; records what the client sent."""

    def __init__(self, script: Callable[[socket.socket], None], kind: str = "standard") -> None:
        self.client, self._server = socket.socketpair()
        if kind == "gevent":
            self.client = gevent.socket.socket(fileno=self.client.detach())
        self.errors: list[BaseException] = []

        def run() -> None:
            try:
                script(self._server)
            except BaseException as exc:  # surfaced by the test through .errors
                self.errors.append(exc)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def connection(self) -> Connection:
        conn = Connection("upstream.test", 80, 5.0)
        conn.attach(self.client)
        return conn

    def join(self) -> None:
        self._thread.join(10)
        self._server.close()
        assert not self.errors


@pytest.fixture(params=["standard", "gevent"])
def peer(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[Callable[[socket.socket], None]], Peer]]:
    made: list[Peer] = []

    def make(script: Callable[[socket.socket], None]) -> Peer:
        made.append(Peer(script, request.param))
        return made[-1]

    yield make
    for p in made:
        p.client.close()


def test_content_length_answer_and_keep_alive(peer) -> None:  # type: ignore[no-untyped-def]
    seen: list[bytes] = []

    def script(s: socket.socket) -> None:
        for body in (b"hello", b"again!"):
            seen.append(_read_request(s))
            s.sendall(
                b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\nX-A: 1\r\n\r\n%s"
                % (len(body), body)
            )

    p = peer(script)
    conn = p.connection()
    resp = conn.request("POST", "/apps?x=1", {"Host": "gw"}, b"name=x", chunked=False, timeout=5)
    assert (resp.status, resp.reason) == (201, "Created")
    assert resp.header("x-a") == "1"
    assert resp.length == 5
    assert resp.read() == b"hello"
    assert resp.reusable
    resp = conn.request("GET", "/apps", {"Host": "gw"}, None, chunked=False, timeout=5)
    assert resp.read() == b"again!"
    p.join()
    assert seen[0] == b"POST /apps?x=1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 6\r\n\r\nname=x"
    assert seen[1] == b"GET /apps HTTP/1.1\r\nHost: gw\r\n\r\n"


def test_chunked_answer_is_read_chunk_by_chunk(peer) -> None:  # type: ignore[no-untyped-def]
    step = threading.Event()

    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
        step.wait(10)  # the client must have the first chunk before the second exists
        s.sendall(b"7;ext=1\r\nsecond\n\r\n0\r\nTrailer: x\r\n\r\n")

    p = peer(script)
    resp = p.connection().request("GET", "/log", {}, None, chunked=False, timeout=5)
    assert resp.length is None
    assert resp.read1() == b"first\n"
    step.set()
    assert resp.read1() == b"second\n"
    assert resp.read1() == b""
    assert resp.reusable
    p.join()


def test_answer_until_close(peer) -> None:  # type: ignore[no-untyped-def]
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        s.shutdown(socket.SHUT_WR)

    p = peer(script)
    resp = p.connection().request("GET", "/", {}, None, chunked=False, timeout=5)
    assert resp.will_close
    assert resp.read() == b"all of it"
    assert not resp.reusable
    p.join()


def test_interim_answers_are_skipped_and_bodyless_statuses(peer) -> None:  # type: ignore[no-untyped-def]
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")

    p = peer(script)
    resp = p.connection().request("DELETE", "/x", {}, None, chunked=False, timeout=5)
    assert resp.status == 204
    assert resp.read() == b""
    assert resp.reusable
    p.join()


def test_streamed_bodies_are_sent_chunked_or_raw(peer) -> None:  # type: ignore[no-untyped-def]
    seen: list[bytes] = []

    def script(s: socket.socket) -> None:
        for _ in range(2):
            seen.append(_read_request(s))
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    p = peer(script)
    conn = p.connection()
    conn.request("PUT", "/a", {}, iter([b"ab", b"", b"cde"]), chunked=True, timeout=5).read()
    conn.request(
        "PUT", "/b", {"Content-Length": "5"}, iter([b"ab", b"cde"]), chunked=False, timeout=5
    ).read()
    p.join()
    assert seen[0].endswith(b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n")
    assert b"\r\nContent-Length: 5\r\n" in seen[1]
    assert seen[1].endswith(b"\r\n\r\nabcde")
    assert b"Transfer-Encoding" not in seen[1]


def test_bodyless_post_says_content_length_zero(peer) -> None:  # type: ignore[no-untyped-def]
    seen: list[bytes] = []

    def script(s: socket.socket) -> None:
        seen.append(_read_request(s))
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    p = peer(script)
    p.connection().request("POST", "/a", {}, None, chunked=False, timeout=5).read()
    p.join()
    assert b"Content-Length: 0\r\n" in seen[0]


def test_idle_connection_closed_by_the_peer_is_not_reusable(peer) -> None:  # type: ignore[no-untyped-def]
    done = threading.Event()

    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        done.wait(10)
        s.shutdown(socket.SHUT_WR)

    p = peer(script)
    conn = p.connection()
    assert conn.request("GET", "/", {}, None, chunked=False, timeout=5).read() == b"ok"
    assert conn.reusable()
    done.set()
    p.join()
    assert not conn.reusable()


def test_reused_connection_closed_before_answer_is_no_answer(peer) -> None:  # type: ignore[no-untyped-def]
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        _read_request(s)
        s.shutdown(socket.SHUT_WR)  # the second request gets no answer

    p = peer(script)
    conn = p.connection()
    conn.request("GET", "/", {}, None, chunked=False, timeout=5).read()
    with pytest.raises(NoAnswer) as info:
        conn.request("GET", "/", {}, None, chunked=False, timeout=5)
    assert info.value.reused
    p.join()


def test_first_request_without_answer_is_no_answer(peer) -> None:  # type: ignore[no-untyped-def]
    # The request was written: the upstream may have acted on it (only an idempotent
    # request may be sent again), whether the connection was new or pooled.
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.shutdown(socket.SHUT_WR)

    p = peer(script)
    with pytest.raises(NoAnswer) as info:
        p.connection().request("GET", "/", {}, None, chunked=False, timeout=5)
    assert not info.value.reused
    assert not isinstance(info.value, NotSent)
    p.join()


def test_connection_closed_mid_answer_is_not_no_answer(peer) -> None:  # type: ignore[no-untyped-def]
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-")
        s.shutdown(socket.SHUT_WR)

    p = peer(script)
    with pytest.raises(ProtocolError) as info:
        p.connection().request("GET", "/", {}, None, chunked=False, timeout=5)
    assert not isinstance(info.value, NoAnswer)
    p.join()


def test_peer_gone_before_the_request_is_not_sent(peer) -> None:  # type: ignore[no-untyped-def]
    p = peer(lambda s: None)
    p.join()  # closes the peer's end
    conn = p.connection()
    with pytest.raises(NotSent):
        # A body larger than the socket buffers: the write itself fails.
        conn.request("POST", "/", {}, b"x" * (8 << 20), chunked=False, timeout=5)


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
)
def test_broken_answers_are_protocol_errors(peer, answer: bytes) -> None:  # type: ignore[no-untyped-def]
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(answer)

    p = peer(script)
    with pytest.raises(ProtocolError):
        p.connection().request("GET", "/", {}, None, chunked=False, timeout=5)
    p.join()


def test_body_cut_short_is_a_protocol_error(peer) -> None:  # type: ignore[no-untyped-def]
    def script(s: socket.socket) -> None:
        _read_request(s)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        s.shutdown(socket.SHUT_WR)

    p = peer(script)
    resp = p.connection().request("GET", "/", {}, None, chunked=False, timeout=5)
    assert resp.read1() == b"abc"
    with pytest.raises(ProtocolError):
        resp.read1()
    p.join()
