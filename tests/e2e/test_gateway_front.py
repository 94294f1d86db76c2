"""The gateway's asyncio front (gateway/front.py) and the gunicorn behind it.

What the front serves is checked against the gateway's own application in
tests/e2e/test_gateway_express.py (the harness starts the front as the stack does);
here: one connection moving from the front to gunicorn, the client's address crossing
the handover, a PROXY line from a client, pipelining, the keep-alive limit, tokens
introspected by the front itself, and the two processes' lives (kill -9 of either,
SIGTERM with a request in flight).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from gateway.tests.harness import REPO, SECRET, GatewayHarness, free_port, raw_answers
from shared.settings import SERVICES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    with GatewayHarness(tmp_path_factory.mktemp("gw-front"), workers=1, front=True) as harness:
        yield harness


def _seen(answer: tuple[bytes, dict[str, str], bytes]) -> dict[str, Any]:
    status, _, body = answer
    assert status.startswith(b"HTTP/1.1 200 "), answer
    return dict(json.loads(body))


def _eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _settled_sockets(gateway: GatewayHarness) -> int:
    """The workers' open sockets once the connections of earlier tests are closed there
    (a worker closes a handed-over connection when it next reads it): two equal counts."""
    last = gateway.worker_sockets()
    for _ in range(50):
        time.sleep(0.2)
        now = gateway.worker_sockets()
        if now == last:
            return now
        last = now
    raise AssertionError("the workers' sockets never settled")


def _introspections(gateway: GatewayHarness) -> int:
    return int(requests.get(gateway.services["auth"][0].url + "/internal/introspections").text)


def test_one_connection_goes_from_the_front_to_gunicorn(gateway: GatewayHarness) -> None:
    # A plain GET (the front), one with a body header (handed over from its first byte)
    # and a plain GET after it (gunicorn's now), written at once: all answered, in order.
    get = "GET /auth/scheme?n={} HTTP/1.1\r\nHost: h\r\n{}\r\n"
    data = (get.format(1, "") + get.format(2, "Content-Length: 0\r\n") + get.format(3, "")).encode()
    raw_answers(gateway.port, get.format(0, "Content-Length: 0\r\n").encode(), 1)  # pools warm
    before = _settled_sockets(gateway)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        (first,) = raw_answers(gateway.port, data[: data.index(b"GET", 1)], 1, sock=sock)
        assert gateway.worker_sockets() == before  # served by the front
        rest = raw_answers(gateway.port, data[data.index(b"GET", 1) :], 2, sock=sock)
        assert gateway.worker_sockets() > before  # handed over
    answers = [_seen(a) for a in (first, *rest)]
    assert [a["query"] for a in answers] == ["n=1", "n=2", "n=3"]
    assert "content-length" not in answers[0]["headers"]
    assert answers[1]["headers"]["content-length"] == "0"


def test_the_client_address_crosses_the_handover(gateway: GatewayHarness) -> None:
    # From 127.0.0.2: the front's own request and the one it hands over carry it alike
    # (the second through the PROXY line gunicorn's worker reads).
    head = "GET /auth/scheme HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.1.1.1\r\n"
    data = (head + "\r\n" + head + "Content-Length: 0\r\n\r\n").encode()
    served, handed = (_seen(a) for a in raw_answers(gateway.port, data, 2, source="127.0.0.2"))
    assert "content-length" not in served["headers"]
    assert handed["headers"]["content-length"] == "0"
    for seen in (served, handed):
        assert seen["headers"]["x-forwarded-for"] == "10.1.1.1, 127.0.0.2"


def test_a_proxy_line_from_a_client_is_not_trusted(gateway: GatewayHarness) -> None:
    # Only the front's own line on its private socket is read; a client's is a bad request.
    data = b"PROXY TCP4 6.6.6.6 127.0.0.1 1111 80\r\nGET /auth/scheme HTTP/1.1\r\nHost: h\r\n\r\n"
    ((status, _, body),) = raw_answers(gateway.port, data, 1)
    assert status.startswith(b"HTTP/1.1 400 "), (status, body)
    assert body.startswith(b"Invalid Request Line")  # gunicorn's, as without the front


def test_pipelined_requests_are_answered_in_order(gateway: GatewayHarness) -> None:
    data = b"".join(
        f"GET /auth/scheme?i={i} HTTP/1.1\r\nHost: h\r\n\r\n".encode() for i in range(8)
    )
    answers = raw_answers(gateway.port, data, 8)
    assert [_seen(a)["query"] for a in answers] == [f"i={i}" for i in range(8)]
    assert all(headers["connection"] == "keep-alive" for _, headers, _ in answers)


def test_connection_close_ends_the_connection_after_the_answer(gateway: GatewayHarness) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close\r\n" in data
    assert data.count(b"HTTP/1.1 ") == 1


def test_an_idle_connection_is_closed_after_the_keepalive_time(gateway: GatewayHarness) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=15) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert 4.0 < time.monotonic() - started < 9.0  # keepalive 5 s, swept each second


def test_a_new_token_is_introspected_once_by_the_front(gateway: GatewayHarness) -> None:
    # Not handed over while it is asked: gunicorn's worker would ask once more.
    before, handed = _introspections(gateway), _settled_sockets(gateway)
    get = b"GET /apps HTTP/1.1\r\nHost: h\r\nAuthorization: bearer good-fr1\r\n\r\n"
    for _ in range(3):  # separate connections, each checked while open
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
            (answer,) = raw_answers(gateway.port, get, 1, sock=sock)
            assert _seen(answer)["headers"]["authorization"] == "bearer good-fr1"
            assert gateway.worker_sockets() == handed
    assert _introspections(gateway) == before + 1


def test_a_refused_token_gets_the_gateways_401(gateway: GatewayHarness) -> None:
    resp = requests.get(gateway.url + "/apps", headers={"Authorization": "bearer nope"})
    assert resp.status_code == 401
    assert resp.headers["Content-Type"].startswith("text/plain")


def _own_gateway(tmp_path: Path) -> GatewayHarness:
    harness = GatewayHarness(tmp_path, workers=1, front=True)
    harness.start()
    return harness


def test_killing_the_front_stops_its_gunicorn(tmp_path: Path) -> None:
    harness = _own_gateway(tmp_path)
    try:
        assert harness.gateway is not None
        front = harness.gateway.pid
        (master,) = _children(front)
        workers = harness.worker_pids()
        assert workers
        os.kill(front, signal.SIGKILL)
        harness.gateway.wait(10)
        _eventually(lambda: not any(_alive(pid) for pid in (master, *workers)))
    finally:
        harness.stop()


def test_gunicorn_exiting_stops_the_front(tmp_path: Path) -> None:
    harness = _own_gateway(tmp_path)
    try:
        assert harness.gateway is not None
        front = harness.gateway.pid
        (master,) = _children(front)
        os.kill(master, signal.SIGKILL)
        assert harness.gateway.wait(15) != 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", harness.port), timeout=2).close()
    finally:
        harness.stop()


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path) -> None:
    harness = _own_gateway(tmp_path)
    got: list[requests.Response] = []
    try:
        assert harness.gateway is not None
        # The sleeper answers after 3 s; the front is stopped 1 s into it.
        slow = threading.Thread(
            target=lambda: got.append(
                requests.get(
                    harness.url + "/apps/sleeper/env",
                    headers={"Authorization": "bearer good-term"},
                    timeout=20,
                )
            )
        )
        requests.get(harness.url + "/apps", headers={"Authorization": "bearer good-term"})
        slow.start()
        time.sleep(1.0)
        harness.gateway.send_signal(signal.SIGTERM)
        slow.join(20)
        assert got and got[0].status_code == 200
        assert got[0].headers["Connection"] == "close"
        assert harness.gateway.wait(15) == 0
    finally:
        harness.stop()


def test_sigterm_serves_a_new_connection_whose_request_comes_after_it(tmp_path: Path) -> None:
    # Accepted before the listener closed, its request not sent yet: waited for and
    # answered (then closed), where an idle keep-alive connection is simply closed.
    harness = _own_gateway(tmp_path)
    try:
        assert harness.gateway is not None
        with (
            socket.create_connection(("127.0.0.1", harness.port), timeout=10) as used,
            socket.create_connection(("127.0.0.1", harness.port), timeout=10) as fresh,
        ):
            request = b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\n\r\n"
            (answer,) = raw_answers(harness.port, request, 1, sock=used)
            assert answer[0] == b"HTTP/1.1 200 OK"
            time.sleep(0.2)  # both accepted by the front
            harness.gateway.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            assert used.recv(1) == b""  # the idle keep-alive one: closed
            ((status, headers, _),) = raw_answers(harness.port, request, 1, sock=fresh)
            assert status == b"HTTP/1.1 200 OK"
            assert headers["connection"] == "close"
            assert fresh.recv(1) == b""
        assert harness.gateway.wait(15) == 0
    finally:
        harness.stop()


def test_a_slow_introspection_does_not_hold_the_others(gateway: GatewayHarness) -> None:
    # The auth service takes 3 s over token "slow": a new good token meanwhile is
    # introspected and answered while that one still waits.
    got: list[int] = []
    slow = threading.Thread(
        target=lambda: got.append(
            requests.get(
                gateway.url + "/apps", headers={"Authorization": "bearer slow"}, timeout=20
            ).status_code
        )
    )
    slow.start()
    time.sleep(0.3)
    resp = requests.get(gateway.url + "/apps", headers={"Authorization": "bearer good-fr2"})
    assert resp.status_code == 200
    assert slow.is_alive() and not got
    slow.join(20)
    assert got == [401]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_client_that_never_reads_its_answers_holds_bounded_memory(
    gateway: GatewayHarness,
) -> None:
    # Pipelined GETs sent for 3 s by a client that reads nothing: once the answers fill
    # the socket and the front's write buffer, the front stops reading requests.
    front = gateway.front_pid
    assert front is not None
    before = _rss_kib(front)
    request = b"GET /auth/scheme HTTP/1.1\r\nHost: h\r\nX-Pad: " + b"p" * 400 + b"\r\n\r\n"
    batch = request * 256
    sent = 0
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.setblocking(False)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                sent += sock.send(batch)
            except BlockingIOError:
                time.sleep(0.01)
        grown = _rss_kib(front) - before
    # Read on regardless (the front did once), it took ~50 MB of requests in those 3 s
    # and grew by more than that; bounded, it takes what the sockets hold and stops.
    assert sent > 2 * 1024 * 1024, sent
    assert grown < 16 * 1024, (grown, sent)


def test_a_refused_huge_body_gets_its_413_through_the_front(gateway: GatewayHarness) -> None:
    # Over the drain bound: gunicorn answers from the Content-Length and closes on the
    # unread rest; the front's writes of it then fail, and the answer gunicorn wrote
    # before closing must still reach the client (it was lost 4 times in 10 before).
    body = b"email=a%40b.c&password=" + b"x" * (17 * 1024 * 1024)
    for _ in range(8):
        resp = requests.post(
            gateway.url + "/auth/login",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status_code == 413
        assert resp.text.startswith("request body too large")


def test_the_images_gateway_command_runs_the_front() -> None:
    # docker-compose.yml's gateway command and the image's CMD are the same, start the
    # front before gunicorn, and run here as in the image: a data directory of its own,
    # no byte code written. (The interpreter here lives under /root, which no other
    # user may enter: the image's own user is not played.)
    command = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["gateway"]
    command = command["command"]
    cmd = re.search(r"^CMD (\[.*\])$", (REPO / "deploy" / "Dockerfile").read_text(), re.M)
    assert cmd is not None and json.loads(cmd.group(1)) == command
    assert command[:5] == ["python", "-m", "gateway.frontproc", "--", "gunicorn"]
    port = free_port()
    local = {
        "python": sys.executable,
        "gunicorn": str(Path(sys.executable).with_name("gunicorn")),
        "0.0.0.0:8080": f"127.0.0.1:{port}",
    }
    argv = [local.get(arg, arg) for arg in command]
    root = Path(tempfile.mkdtemp(prefix="tsubame-image-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TSUBAME_DATA_DIR": str(root),
        "TSUBAME_IDENTITY_SECRET": SECRET,
        "TSUBAME_WORKERS": "1",
        **{f"TSUBAME_{ctx.upper()}_URLS": "http://127.0.0.1:9" for ctx in SERVICES},
    }
    with (root / "gateway.log").open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (root / "gateway.log").read_text()[-2000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthcheck", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (root / "gateway.log").read_text()[-2000:]
            time.sleep(0.2)
        (gunicorn,) = _children(proc.pid)
        assert b"gunicorn" in Path(f"/proc/{gunicorn}/cmdline").read_bytes()
        proc.send_signal(signal.SIGTERM)  # docker stop: PID 1 alone
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)
