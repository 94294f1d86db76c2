"""``GET /internal/apps/{app}/shell`` on the provisioner service under gunicorn: the
upgraded connection carries a real shell's terminal (docs/runtime.md "Shell")."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.procs import free_port, port_open
from services.provisioner.tests.runtime_support import Harness, harness
from shared.identity import IDENTITY_HEADER, internal_identity, sign

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]
SECRET = "shell-test-secret-0123456789"


@pytest.fixture(scope="module")
def served(mongo_url: str, amqp_url: str) -> Iterator[tuple[Harness, int]]:
    ns = f"shell_{secrets.token_hex(4)}"
    with harness(mongo_url, ns, db_name=f"{ns}_provisioner") as h:
        port = free_port()
        env = {
            **os.environ,
            "TSUBAME_IDENTITY_SECRET": SECRET,
            "TSUBAME_DATA_DIR": str(h.base / "data"),
            "TSUBAME_NAMESPACE": ns,
            "TSUBAME_MONGO_URL": mongo_url,
            "TSUBAME_AMQP_URL": amqp_url,
            "TSUBAME_PROCESS_ROOT": str(h.base / "root"),
            "TSUBAME_WORKERS": "1",
        }
        gunicorn = Path(sys.executable).parent / "gunicorn"
        proc = subprocess.Popen(
            [str(gunicorn), "-c", "deploy/gunicorn.py", "--bind", f"127.0.0.1:{port}",
             "services.provisioner.wsgi:app"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not port_open("127.0.0.1", port):
                assert time.monotonic() < deadline and proc.poll() is None, "no provisioner"
                time.sleep(0.1)
            yield h, port
        finally:
            proc.terminate()
            proc.wait(15)


def open_shell(port: int, app: str, query: str, upgrade: str = "tsubame-shell") -> socket.socket:
    path = f"/internal/apps/{app}/shell"
    header = sign(internal_identity("apps"), SECRET.encode(), method="GET", path=path)
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    sock.sendall(
        (
            f"GET {path}?{query} HTTP/1.1\r\nHost: provisioner\r\n{IDENTITY_HEADER}: {header}\r\n"
            f"Connection: Upgrade\r\nUpgrade: {upgrade}\r\n\r\n"
        ).encode()
    )
    return sock


def read_all(sock: socket.socket, limit: float = 15.0) -> bytes:
    out = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_a_shell_beside_the_apps_unit(served: tuple[Harness, int]) -> None:
    h, port = served
    spec = h.spec("shelled")
    assert h.deploy(spec, 1).error == ""
    unit = h.deps.stores.units.of_app("shelled")[0].id
    sock = open_shell(port, "shelled", "width=100&height=30&term=xterm")
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101 ")
        sock.sendall(b"echo at=$HOSTNAME; stty size; exit\n")
        text = read_all(sock).decode("utf-8", "replace")
    finally:
        sock.close()
    assert f"at={unit}" in text and "30 100" in text


def refusal(sock: socket.socket) -> str:
    """One whole HTTP answer (head and Content-Length body): the connection stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    sock.close()
    return (head + b"\r\n\r\n" + body).decode()


def test_refusals_are_plain_text_with_tsurus_words(served: tuple[Harness, int]) -> None:
    h, port = served
    sock = open_shell(port, "no-units-here", "")
    answer = read_all(sock).decode()
    sock.close()
    assert (
        answer.startswith("HTTP/1.1 400")
        and "App must be available to run non-isolated commands" in answer
    )
    answer = refusal(open_shell(port, "no-units-here", "unit=abc"))
    assert answer.startswith("HTTP/1.1 404") and 'unit "abc" not found' in answer
    answer = refusal(open_shell(port, "no-units-here", "", upgrade="websocket"))
    assert answer.startswith("HTTP/1.1 400")
