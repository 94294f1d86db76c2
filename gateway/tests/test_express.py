"""The express lane's whole answers (gateway/express.py, ``whole``): the same bytes the
general framing writes (``start_response`` + ``finish``), or nothing at all when one of
the answer's parts needs the general rules."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gateway.express import Express, Plan
from gateway.fastresponse import Response
from gateway.headers import answer_headers
from gateway.responses import SUPPORTED, status_line

BODY = b'{"name":"native"}'


class _Upstream:
    """What ``whole`` reads of an upstream answer (gateway/upstream.py's UpstreamResponse)."""

    def __init__(self, status: int, headers: list[tuple[str, str]], reason: str = "") -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        # The last one, as gateway/httpclient.py's Response keeps it.
        found = [v for n, v in headers if n.lower() == "connection"]
        self.connection_header = found[-1] if found else None
        self.released = False

    def read(self) -> bytes:
        return BODY

    def release(self) -> None:
        self.released = True


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    b.settimeout(5)
    yield a, b
    a.close()
    b.close()


def _plan(app: str | None = None) -> Plan:
    return Plan(None, "auth", app, "GET", b"", "rid-1", False)  # type: ignore[arg-type]


def _general(up: _Upstream, app: str | None, sock: socket.socket) -> None:
    """The general path's answer to the same upstream answer (Express.run's)."""
    headers = answer_headers(up)  # type: ignore[arg-type]
    if app is None:
        headers += SUPPORTED
    headers.append(("X-Request-Id", "rid-1"))
    resp = Response(sock, False, False)
    resp.start_response(status_line(up.status, up.reason), headers)
    resp.finish(up.read())


def _received(sock: socket.socket) -> bytes:
    out = b""
    while not out.endswith(BODY):
        out += sock.recv(65536)
    return out


UPSTREAM = [
    ("Server", "gunicorn"),
    ("Date", "Sun, 06 Dec 2026 01:49:56 GMT"),
    ("Connection", "keep-alive"),
    ("Content-Type", "application/json"),
    ("Content-Length", str(len(BODY))),
    ("X-Request-Id", "the-service-echo"),
    ("Set-Cookie", "a=1"),
    ("Set-Cookie", "b=2"),
]


@pytest.mark.parametrize("app", [None, "myapp"])
@pytest.mark.parametrize("status,reason", [(200, ""), (201, "Created"), (404, ""), (599, "Odd")])
def test_a_whole_answer_is_what_the_general_framing_writes(
    pair: tuple[socket.socket, socket.socket], app: str | None, status: int, reason: str
) -> None:
    a, b = pair
    up = _Upstream(status, UPSTREAM, reason)
    resp = Response(a, False, False)
    assert Express.whole(None, _plan(app), up, resp)  # type: ignore[arg-type]
    assert up.released and not resp.must_close
    lane = _received(b)
    _general(_Upstream(status, UPSTREAM, reason), app, a)
    general = _received(b)

    def lines(raw: bytes) -> list[bytes]:  # same lines, Content-Length's place aside
        return sorted(raw.split(b"\r\n"))

    assert lines(lane) == lines(general)
    assert lane.startswith(b"HTTP/1.1 %d " % status)
    assert (b"Supported-Tsuru: 1.0.1" in lane) is (app is None)
    assert lane.count(b"X-Request-Id") == 1 and b"X-Request-Id: rid-1\r\n" in lane


def test_client_close_closes(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    resp = Response(a, False, True)
    assert Express.whole(None, _plan(), _Upstream(200, UPSTREAM), resp)  # type: ignore[arg-type]
    assert resp.must_close and b"Connection: close\r\n" in _received(b)


@pytest.mark.parametrize(
    "status,headers",
    [
        (204, UPSTREAM[:4]),  # no body: the general rules
        (304, UPSTREAM),
        (200, [*UPSTREAM, ("Connection", "x-private")]),  # names another hop-by-hop header
        (200, [("Content-Type", "text/plain"), ("Connection", "close, x-private")]),
        (200, [*UPSTREAM, ("Bad Name", "x")]),  # gunicorn refuses these: a 500 there
        (200, [*UPSTREAM, ("X-Ctl", "a\x01b")]),
        (200, [*UPSTREAM, ("X-Del", "a\x7f")]),
    ],
)
def test_answers_needing_the_general_rules_are_left_untouched(
    pair: tuple[socket.socket, socket.socket], status: int, headers: list[tuple[str, str]]
) -> None:
    a, b = pair
    up = _Upstream(status, headers)
    resp = Response(a, False, False)
    assert not Express.whole(None, _plan(), up, resp)  # type: ignore[arg-type]
    assert not up.released and not resp.sent_head and resp.status is None
    b.settimeout(0.05)
    with pytest.raises(TimeoutError):
        b.recv(1)
