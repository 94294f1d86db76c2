"""The proxy forwarding over real HTTP: both bodies stream, answers are bounded."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator

import pytest

from services.catalog.adapters.proxy import HttpProxy
from services.catalog.operations.deps import ProxyRequest
from services.catalog.tests.peers.service_api import FakeServiceApi

pytestmark = pytest.mark.integration


@pytest.fixture
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


def test_forward_and_answer_unchanged(api: FakeServiceApi) -> None:
    body = io.BytesIO(b"x" * 300_000)
    resp = HttpProxy().forward(
        ProxyRequest(
            "POST",
            f"{api.url}/stats?a=1",
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", "300000"),
                ("X-Up", "1"),
            ],
            body,
            ("mysql", "pw"),
            "10.1.1.1",
        )  # fmt: skip
    )
    echo = json.loads(b"".join(resp.body))
    assert resp.status == 200
    assert (echo["method"], echo["path"], echo["query"]) == ("POST", "/stats", "a=1")
    assert len(echo["body"]) == 300_000
    assert echo["headers"]["X-Forwarded-For"] == "10.1.1.1"
    assert echo["headers"]["Authorization"].startswith("Basic ")
    api.script("GET", "/teapot", 418, b"short and stout", headers={"X-Kettle": "yes"})
    resp = HttpProxy().forward(ProxyRequest("GET", f"{api.url}/teapot", [], b"", ("a", "b"), "x"))
    assert (resp.status, b"".join(resp.body)) == (418, b"short and stout")
    assert ("X-Kettle", "yes") in resp.headers


def test_answers_are_cut_at_the_bound(api: FakeServiceApi) -> None:
    api.script("GET", "/big", 200, b"y" * 1_000_000)
    resp = HttpProxy(max_bytes=100_000).forward(
        ProxyRequest("GET", f"{api.url}/big", [], b"", ("a", "b"), "x")
    )
    assert len(b"".join(resp.body)) <= 100_000


def test_an_unreachable_api_is_a_502() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    resp = HttpProxy().forward(
        ProxyRequest("GET", f"http://127.0.0.1:{port}/x", [], b"", ("a", "b"), "x")
    )
    assert (resp.status, list(resp.body)) == (502, [])
