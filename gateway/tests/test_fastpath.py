"""The worker's fast loop (gateway/fastpath.py): plain requests served with gunicorn's
framing, everything else handed to gunicorn with the bytes already read.

The loop runs on one end of a socket pair with a small WSGI application; the test
speaks raw HTTP on the other end. Every test runs twice: on standard sockets in a
thread, and on gevent's sockets in a greenlet, as in the worker (gateway/sockio.py's
reads and writes).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import gevent.socket
import pytest
from gunicorn.config import Config

from gateway.fastpath import FastLoop, Handover

App = Callable[[dict[str, Any], Any], Any]


class _Log:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def info(self, *args: object) -> None:
        pass

    def exception(self, msg: str, *args: object) -> None:
        self.errors.append(msg % args if args else msg)


class _Worker:
    def __init__(self, app: App) -> None:
        self.cfg = Config()
        self.cfg.set("keepalive", 1)
        self.wsgi = app
        self.log = _Log()
        self.nr = 0
        self.max_requests = 1 << 30
        self.alive = True
        self.handled: list[Exception] = []

    def handle_error(
        self, req: object, client: socket.socket, addr: object, exc: Exception
    ) -> None:
        self.handled.append(exc)
        client.sendall(b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n")


class _Listener:
    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8080)


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers the request's environ (the str values) as JSON, with its length."""
    body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class Run:
    """The loop serving one connection in a thread; ``outcome`` once it ended."""

    def __init__(self, app: App) -> None:
        self.worker = _Worker(app)
        self.server, self.client = self._pair()
        self.client.settimeout(5)
        self.outcome: object = None
        self._start()

    def _pair(self) -> tuple[Any, Any]:
        return socket.socketpair()

    def _start(self) -> None:
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            FastLoop(self.worker).serve(_Listener(), self.server, ("127.0.0.1", 4242))
            self.outcome = "closed"
        except Handover as turn:
            self.outcome = turn
        except BaseException as exc:
            self.outcome = exc
        finally:
            self.server.close()  # as the worker does once the loop is done with it

    def ended(self) -> object:
        self.thread.join(5)
        assert not self.thread.is_alive()
        return self.outcome

    def read_answer(self, to_head: bool = False) -> tuple[str, dict[str, str], bytes]:
        """One response: status line, headers (lower-case names), body (by its framing;
        none after ``to_head``, the answer to a HEAD request)."""
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = self.client.recv(65536)
            assert data, f"closed after {buf!r}"
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if to_head:
            return status, headers, rest
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(rest) < length:
                data = self.client.recv(65536)
                assert data, f"closed inside the body {rest!r}"
                rest += data
            return status, headers, rest[:length]
        if headers.get("transfer-encoding") == "chunked":
            while not rest.endswith(b"0\r\n\r\n"):
                data = self.client.recv(65536)
                assert data, f"closed inside the body {rest!r}"
                rest += data
            return status, headers, rest
        return status, headers, rest

    def close(self) -> None:
        self.client.close()
        self.server.close()


class GeventRun(Run):
    """The same on gevent's sockets, the loop in a greenlet (the test's blocking reads
    and writes on the other end let it run)."""

    def _pair(self) -> tuple[Any, Any]:
        return gevent.socket.socketpair()

    def _start(self) -> None:
        self.greenlet = gevent.spawn(self._serve)

    def ended(self) -> object:
        self.greenlet.join(5)
        assert self.greenlet.dead
        return self.outcome


@pytest.fixture(params=[Run, GeventRun], ids=["standard", "gevent"])
def run(request: pytest.FixtureRequest) -> Iterator[Callable[[App], Run]]:
    runs: list[Run] = []
    kind: type[Run] = request.param

    def start(app: App) -> Run:
        r = kind(app)
        runs.append(r)
        return r

    yield start
    for r in runs:
        r.close()


def test_a_plain_request_gets_the_environ_gunicorn_would_build(run: Callable[[App], Run]) -> None:
    r = run(_echo)
    r.client.sendall(
        b"GET /a%20b/c?x=1&y=%32 HTTP/1.1\r\nHost: h:1\r\nX-Multi: 1\r\nx-multi: 2\r\n"
        b"Content-Type: text/plain\r\nAuthorization: bearer t\r\n\r\n"
    )
    status, headers, body = r.read_answer()
    assert status == "HTTP/1.1 200 OK"
    assert headers["server"] == "gunicorn"
    assert headers["connection"] == "keep-alive"
    assert headers["date"].endswith(" GMT")
    env = json.loads(body)
    assert env["REQUEST_METHOD"] == "GET"
    assert env["RAW_URI"] == "/a%20b/c?x=1&y=%32"
    assert env["PATH_INFO"] == "/a b/c"
    assert env["QUERY_STRING"] == "x=1&y=%32"
    assert env["HTTP_HOST"] == "h:1"
    assert env["HTTP_X_MULTI"] == "1,2"
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["HTTP_AUTHORIZATION"] == "bearer t"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["wsgi.url_scheme"] == "http"
    assert "HTTP_CONTENT_TYPE" not in env


def test_keep_alive_and_pipelined_requests_are_answered_in_order(
    run: Callable[[App], Run],
) -> None:
    r = run(_echo)
    r.client.sendall(b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n")
    assert json.loads(r.read_answer()[2])["PATH_INFO"] == "/one"
    r.client.sendall(
        b"GET /two HTTP/1.1\r\nHost: h\r\n\r\n"
        b"GET /three HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    )
    rest = b""
    while data := r.client.recv(65536):
        rest += data
    assert rest.count(b"HTTP/1.1 200 OK") == 2
    assert 0 < rest.index(b'"PATH_INFO": "/two"') < rest.index(b'"PATH_INFO": "/three"')
    assert rest.count(b"Connection: keep-alive") == 1 and rest.count(b"Connection: close") == 1
    assert r.ended() == "closed"


@pytest.mark.parametrize(
    "request_bytes",
    [
        # Bodies, upgrades, Expect: gunicorn's.
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabc",
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        # Framing gunicorn refuses or interprets.
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n X-Tsubame-Identity: forged\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nX_Forged: 1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-A : 1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\nb\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: https\r\n\r\n",
        b"GET /x HTTP/1.0\r\nHost: h\r\n\r\n",
        b"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
        b"get /x HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /x#frag HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        b"\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /x  HTTP/1.1\r\nHost: h\r\n\r\n",
    ],
)
def test_other_requests_are_handed_to_gunicorn_with_every_byte(
    run: Callable[[App], Run], request_bytes: bytes
) -> None:
    r = run(_echo)
    plain = b"GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
    r.client.sendall(plain)
    assert r.read_answer()[0] == "HTTP/1.1 200 OK"
    r.client.sendall(request_bytes)
    outcome = r.ended()
    assert isinstance(outcome, Handover)
    # Nothing of the request was consumed: gunicorn parses it from its first byte.
    assert request_bytes.startswith(outcome.data) or outcome.data.startswith(
        request_bytes.split(b"\r\n\r\n")[0]
    )
    assert outcome.data == request_bytes[: len(outcome.data)]


def test_an_oversized_head_is_gunicorns(run: Callable[[App], Run]) -> None:
    r = run(_echo)
    big = b"GET /x HTTP/1.1\r\nHost: h\r\n" + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n"
    r.client.sendall(big)
    outcome = r.ended()
    assert isinstance(outcome, Handover) and outcome.data == big


def test_head_204_and_chunked_framing(run: Callable[[App], Run]) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        path = environ["PATH_INFO"]
        if path == "/empty":
            start_response("204 No Content", [("Content-Length", "0")])
            return iter([b""])
        if path == "/sized":
            start_response("200 OK", [("Content-Length", "5"), ("Connection", "keep-alive")])
            return iter([b"hel", b"lo", b" and more"])

        def chunks() -> Iterator[bytes]:
            yield b"ab"
            yield b""
            yield b"cde"

        start_response("200 OK", [("Content-Type", "text/plain"), ("Transfer-Encoding", "x")])
        return chunks()

    r = run(app)
    r.client.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
    status, headers, body = r.read_answer()
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"
    r.client.sendall(b"HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\n")
    status, headers, body = r.read_answer(to_head=True)
    assert status == "HTTP/1.1 200 OK" and "transfer-encoding" not in headers and body == b""
    r.client.sendall(b"GET /empty HTTP/1.1\r\nHost: h\r\n\r\n")
    status, headers, body = r.read_answer()
    assert status == "HTTP/1.1 204 No Content"
    assert "content-length" not in headers and "transfer-encoding" not in headers
    r.client.sendall(b"HEAD /sized HTTP/1.1\r\nHost: h\r\n\r\n")
    status, headers, body = r.read_answer(to_head=True)
    assert body == b""
    assert headers["content-length"] == "5" and headers["connection"] == "keep-alive"
    r.client.sendall(b"GET /sized HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := r.client.recv(65536):
        data += chunk
    assert data.endswith(b"\r\n\r\nhello")
    assert b"Connection: close\r\n" in data
    assert r.ended() == "closed"


def test_the_applications_connection_close_closes(run: Callable[[App], Run]) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "413 Request Entity Too Large", [("Content-Length", "2"), ("Connection", "close")]
        )
        return [b"no"]

    r = run(app)
    r.client.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    data = b""
    while chunk := r.client.recv(65536):
        data += chunk
    assert data.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    assert b"Connection: close\r\n" in data and data.endswith(b"\r\n\r\nno")
    assert r.ended() == "closed"


@pytest.mark.parametrize(
    "headers",
    [[("Bad Name", "v")], [("X-A", "line\r\nInjected: 1")], [("X-A", "nul\x00")]],
)
def test_an_invalid_application_header_is_a_500(
    run: Callable[[App], Run], headers: list[tuple[str, str]]
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [b"x"]

    r = run(app)
    r.client.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    data = b""
    while chunk := r.client.recv(65536):
        data += chunk
    assert data.startswith(b"HTTP/1.1 500 ")
    assert b"Injected" not in data
    assert len(r.worker.handled) == 1
    assert r.ended() == "closed"


def test_an_application_taking_the_connection_over_ends_the_loop(
    run: Callable[[App], Run],
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["gunicorn.socket"].sendall(b"taken over")
        raise StopIteration

    r = run(app)
    r.client.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    assert r.client.recv(100) == b"taken over"
    assert r.ended() == "closed"


def test_an_idle_connection_closes_after_keepalive(run: Callable[[App], Run]) -> None:
    r = run(_echo)
    r.client.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    r.read_answer()
    assert r.ended() == "closed"  # keepalive is 1 s here
    assert r.client.recv(100) == b""


def test_a_worker_told_to_stop_closes_after_the_answer(run: Callable[[App], Run]) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        r.worker.alive = False
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    r = run(app)
    r.client.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    assert r.read_answer()[2] == b"ok"
    assert r.ended() == "closed"
