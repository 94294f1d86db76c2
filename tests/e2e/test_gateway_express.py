"""The gateway's express lane (gateway/express.py) forwards what the application forwards.

Each request is sent twice to a real gateway worker in front of echoing fake services:
as it is (a plain GET: the express lane serves it) and with ``Content-Length:
0`` added (a body header: gunicorn parses it and the WSGI application forwards it).
What the service saw and what the client got must be the same, but for the body
framing header itself: the application's upstream client declares the empty body
(``Content-Length: 0``), the lane sends a bodiless GET as a GET is sent, without one.
That difference is also how each test knows which path served which request.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.tests.harness import SECRET, GatewayHarness, raw_answers
from shared.identity import verify

pytestmark = pytest.mark.e2e

TOKEN = "good-express"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    with GatewayHarness(tmp_path_factory.mktemp("gw-express"), workers=1) as harness:
        yield harness


def _both(gateway: GatewayHarness, head: str) -> tuple[Any, Any]:
    """``head`` (request line and headers, no blank line) sent plain, then with a body
    header; the two answers."""
    plain = head.encode("latin-1") + b"\r\n\r\n"
    forced = head.encode("latin-1") + b"\r\nContent-Length: 0\r\n\r\n"
    first, second = raw_answers(gateway.port, plain + forced, 2)
    return first, second


def _seen(answer: tuple[bytes, dict[str, str], bytes]) -> dict[str, Any]:
    status, _, body = answer
    assert status.startswith(b"HTTP/1.1 200 "), answer
    return dict(json.loads(body))


@pytest.fixture(scope="module")
def cached_token(gateway: GatewayHarness) -> str:
    """A token whose introspection the worker has cached (its first use did it)."""
    (answer,) = raw_answers(
        gateway.port,
        f"GET /apps HTTP/1.1\r\nHost: x\r\nAuthorization: bearer {TOKEN}\r\n\r\n".encode(),
        1,
    )
    assert answer[0].startswith(b"HTTP/1.1 200 "), answer
    return TOKEN


REQUESTS = [
    # A public route, no token.
    "GET /auth/scheme HTTP/1.1\r\nHost: api.example.com",
    # A version prefix and a query string, percent-encoding kept.
    "GET /1.0/auth/scheme?a=1&b=%2F+x HTTP/1.1\r\nHost: api.example.com",
    # The client's own forwarding chain, request id, odd spacing, duplicates.
    "GET /auth/scheme HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\n"
    "X-Request-Id: client-id-1\r\nAccept:   text/plain  \r\nAccept: application/json\r\n"
    "User-Agent: tsuru-client/1.11\r\nContent-Type: application/x-www-form-urlencoded",
    # Hop-by-hop headers and a forged identity are dropped on both paths.
    "GET /auth/scheme HTTP/1.1\r\nHost: h\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
    "Trailer: X-T\r\nProxy-Authorization: basic x\r\nProxy-Connection: keep-alive\r\n"
    "X-Tsubame-Identity: forged\r\nConnection: keep-alive",
    # Latin-1 bytes in a value pass as they came.
    "GET /auth/scheme HTTP/1.1\r\nHost: h\r\nX-Note: caf\xe9",
]


def _same(gateway: GatewayHarness, head: str) -> dict[str, Any]:
    """What the service saw of ``head``, checked to be the same on both paths, and the
    same answer to the client (but its date and the body echoing the request)."""
    express, application = _both(gateway, head)
    lane, app = _seen(express), _seen(application)
    assert "content-length" not in lane["headers"]  # served by the express lane
    assert app["headers"].pop("content-length") == "0"  # served by the application
    # The service gets the id the client gets: the client's own, else a new one each.
    for seen, answer in ((lane, express), (app, application)):
        assert seen["headers"].pop("x-request-id") == answer[1].pop("x-request-id")
    if gateway.front and "x-tsubame-identity" in lane["headers"]:
        # Signed by the front and by the gateway behind it (two processes, each reusing
        # its own signature for a second): both valid for the same identity and request.
        signed = [seen["headers"].pop("x-tsubame-identity") for seen in (lane, app)]
        who = [verify(s, SECRET.encode(), method="GET", path=lane["path"]) for s in signed]
        assert who[0] == who[1]
        lane["headers"]["x-tsubame-identity"] = app["headers"]["x-tsubame-identity"] = "checked"
    assert lane == app
    assert express[1].pop("date") and application[1].pop("date")
    express[1].pop("content-length"), application[1].pop("content-length")  # the echo's
    assert express[:2] == application[:2]
    return lane


@pytest.mark.parametrize("head", REQUESTS)
def test_the_service_sees_the_same_request(gateway: GatewayHarness, head: str) -> None:
    headers = _same(gateway, head)["headers"]
    assert "x-tsubame-identity" not in headers
    assert not {"keep-alive", "te", "trailer", "proxy-authorization", "connection"} & set(headers)
    assert headers["x-forwarded-for"].endswith("127.0.0.1")
    assert headers["x-forwarded-proto"] == "http"


def test_a_cached_token_is_signed_the_same(gateway: GatewayHarness, cached_token: str) -> None:
    # The same signed identity (reused for a second per caller, method and path).
    head = (
        f"GET /2.1/apps?simplified=true HTTP/1.1\r\nHost: h\r\nAuthorization: bearer {cached_token}"
    )
    seen = _same(gateway, head)
    assert seen["headers"]["x-tsubame-identity"]
    assert seen["path"] == "/apps" and seen["query"] == "simplified=true"
    assert seen["headers"]["authorization"] == f"bearer {cached_token}"


def test_connection_close_is_honoured(gateway: GatewayHarness) -> None:
    data = b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(data + data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    assert out.count(b"HTTP/1.1 200 ") == 1 and b"Connection: close\r\n" in out


def test_requests_the_lane_leaves_get_the_applicationsraw_answers(
    gateway: GatewayHarness,
) -> None:
    plain = [
        ("GET /no/such/route HTTP/1.1\r\nHost: h", b"404 ", b"404 page not found\n"),
        ("HEAD /auth/scheme HTTP/1.1\r\nHost: h", b"405 ", b""),  # no HEAD routes
        ("GET /apps HTTP/1.1\r\nHost: h", b"401 ", None),  # needs a token
        ("GET /apps HTTP/1.1\r\nHost: h\r\nAuthorization: bearer nope", b"401 ", None),
        ("GET /healthcheck HTTP/1.1\r\nHost: h", b"200 ", b"WORKING"),  # the gateway's own
        (
            "GET /apps HTTP/1.1\r\nHost: h\r\nConnection: x-drop\r\nX-Drop: 1\r\n"
            f"Authorization: bearer {TOKEN}-2",
            b"200 ",
            None,
        ),  # fmt: skip
    ]
    for head, status, body in plain:
        (answer,) = raw_answers(gateway.port, head.encode() + b"\r\n\r\n", 1)
        assert answer[0].startswith(b"HTTP/1.1 " + status), (head, answer)
        if body is not None:
            assert answer[2] == body or answer[2].startswith(body), (head, answer)
    # A header the request's Connection names is dropped (the application's rule).
    seen = json.loads(raw_answers(gateway.port, (plain[-1][0] + "\r\n\r\n").encode(), 1)[0][2])
    assert "x-drop" not in seen["headers"]


def test_an_unreachable_service_is_a_502_with_the_gateways_headers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with GatewayHarness(tmp_path_factory.mktemp("gw-express-502"), workers=1) as gateway:
        raw_answers(gateway.port, b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\n\r\n", 1)
        gateway.kill_service("auth")
        time.sleep(0.2)
        (answer,) = raw_answers(
            gateway.port, b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\nX-Request-Id: r-502\r\n\r\n", 1
        )
        status, headers, body = answer
        assert status == b"HTTP/1.1 502 Bad Gateway"
        assert body == b"service auth is unavailable\n"
        assert headers["x-request-id"] == "r-502"
        assert headers["supported-tsuru"] == "1.0.1"
        assert headers["content-type"] == "text/plain; charset=utf-8"


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    """A gateway routing app "myapp" to the (echoing) events stand-in."""
    harness = GatewayHarness(
        tmp_path_factory.mktemp("gw-express-apps"),
        workers=1,
        env={"TSUBAME_APPS_DOMAIN": "apps.example.com"},
    )
    harness.route_sample_apps()
    with harness:
        deadline = time.monotonic() + 30
        while True:  # the worker's table loads in the background
            (answer,) = raw_answers(
                harness.port, b"GET /apps HTTP/1.1\r\nHost: www.myapp.com\r\n\r\n", 1
            )
            if b'"service": "events"' in answer[2]:
                break
            assert time.monotonic() < deadline, f"the app routes did not load: {answer!r}"
            time.sleep(0.2)
        yield harness


APP_REQUESTS = [
    "GET / HTTP/1.1\r\nHost: myapp.apps.example.com",
    # The app sees the path as it came (a version-like prefix is the app's own).
    "GET /1.0/x/%2F?q=a+b HTTP/1.1\r\nHost: www.myapp.com:8080\r\nAccept: */*",
    # Authorization goes to the app untouched; the gateway's identity never does.
    "GET /private HTTP/1.1\r\nHost: www.myapp.com\r\nAuthorization: bearer app-secret\r\n"
    "X-Forwarded-For: 10.1.1.1\r\nX-Request-Id: app-rid\r\nTE: trailers",
]


@pytest.mark.parametrize("head", APP_REQUESTS)
def test_an_app_sees_the_same_request(routed: GatewayHarness, head: str) -> None:
    seen = _same(routed, head)
    headers = seen["headers"]
    assert seen["service"] == "events"  # the app's unit
    assert headers["x-forwarded-host"] == head.split("Host: ")[1].split("\r\n")[0]
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"].endswith("127.0.0.1")
    assert not any(name.startswith("x-tsubame-") for name in headers)
    assert "te" not in headers


def test_app_requests_the_lane_leaves(routed: GatewayHarness) -> None:
    cases = [
        # Headers the router drops or replaces: the application's path, same result.
        ("GET / HTTP/1.1\r\nHost: www.myapp.com\r\nX-Tsubame-Identity: forged\r\n"
         "X-Tsubame-Team: t\r\nX-Forwarded-Host: evil", b"200 "),
        ("GET / HTTP/1.1\r\nHost: idle.apps.example.com", b"503 "),  # no unit
        ("GET / HTTP/1.1\r\nHost: nobody.apps.example.com", b"404 "),
    ]  # fmt: skip
    for head, status in cases:
        (answer,) = raw_answers(routed.port, head.encode() + b"\r\n\r\n", 1)
        assert answer[0].startswith(b"HTTP/1.1 " + status), (head, answer)
        assert "supported-tsuru" not in answer[1]
    seen = json.loads(raw_answers(routed.port, (cases[0][0] + "\r\n\r\n").encode(), 1)[0][2])
    headers = seen["headers"]
    assert not any(name.startswith("x-tsubame-") for name in headers)
    assert headers["x-forwarded-host"] == "www.myapp.com"


def test_an_unreachable_unit_is_the_routers_502(routed: GatewayHarness) -> None:
    routed.kill_service("events")
    try:
        (answer,) = raw_answers(
            routed.port, b"GET / HTTP/1.1\r\nHost: www.myapp.com\r\nX-Request-Id: u502\r\n\r\n", 1
        )
    finally:
        routed.start_service("events")
    status, headers, body = answer
    assert status == b"HTTP/1.1 502 Bad Gateway"
    assert body == b'app "myapp" is unavailable\n'
    assert headers["x-request-id"] == "u502"
    assert "supported-tsuru" not in headers


TWICE = [
    # (header lines, header the service sees, its value): joined as gunicorn joins them.
    (["Host: h", "Host: h2"], "host", "h,h2"),
    (["Host: h", "X-Forwarded-For: 10.0.0.1", "X-Forwarded-For: 10.9.9.9"],
     "x-forwarded-for", "10.0.0.1,10.9.9.9, 127.0.0.1"),
    (["Host: h", "X-Request-Id: a", "X-Request-Id: b"], "x-request-id", "ab"),
    (["Host: h", "Authorization: bearer one", "Authorization: bearer two"],
     "authorization", "bearer one,bearer two"),  # no token read: anonymous
    (["Host: h", "Connection: keep-alive", "Connection: x-drop", "X-Drop: 1"], "x-drop", None),
]  # fmt: skip


@pytest.mark.parametrize("lines,name,value", TWICE)
def test_a_header_the_gateway_reads_given_twice_is_read_as_before(
    gateway: GatewayHarness, lines: list[str], name: str, value: str | None
) -> None:
    head = "\r\n".join(["GET /auth/scheme HTTP/1.1", *lines]) + "\r\n\r\n"
    (answer,) = raw_answers(gateway.port, head.encode(), 1)
    assert answer[0].startswith(b"HTTP/1.1 200 "), answer
    assert json.loads(answer[2])["headers"].get(name) == value


@pytest.mark.parametrize(
    "host",
    ["WWW.MyApp.com.", "www.myapp.com.:80", "myapp.apps.example.com:", "[::1]:8080", "\xff\xfe",
     "", "myapp.apps.example.com:abc", "apps.example.com", "x.myapp.apps.example.com"],
)  # fmt: skip
def test_odd_hosts_are_routed_as_the_application_routes_them(
    routed: GatewayHarness, host: str
) -> None:
    express, application = _both(routed, f"GET /auth/scheme HTTP/1.1\r\nHost: {host}")
    assert express[0] == application[0], (express, application)
    if express[0].startswith(b"HTTP/1.1 200 "):
        assert _seen(express)["service"] == _seen(application)["service"]
    else:
        assert express[2] == application[2]
