"""Bodies stream through the gateway in both directions, without buffering."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
import requests

from gateway.tests.harness import GatewayHarness, rss_kib

pytestmark = pytest.mark.e2e

TOKEN = {"Authorization": "bearer good"}
MIB = 1024 * 1024
UPLOAD = 200 * MIB
# Growth allowed to a worker's resident memory over a 200 MiB upload.
RSS_BOUND_KIB = 40 * 1024


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    with GatewayHarness(tmp_path_factory.mktemp("gw-stream"), workers=1) as harness:
        yield harness


def test_lines_reach_the_client_as_they_are_written(gateway: GatewayHarness) -> None:
    go = gateway.control / "go"
    go.unlink(missing_ok=True)
    # The upstream writes its second line only after "go" exists, and "go" is created
    # only after the client read the first line: a buffering gateway never gets there
    # (the read times out instead).
    with requests.get(
        gateway.url + "/1.0/apps/streamer/log?lines=10&follow=1",
        headers=TOKEN,
        stream=True,
        timeout=30,
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/x-json-stream"
        lines = resp.iter_lines()
        assert next(lines) == b'{"Message":"first\\n"}'
        assert not go.exists()
        go.touch()
        assert next(lines) == b'{"Message":"second\\n"}'
        assert list(lines) == []


class Generated:
    """``total`` bytes made on the fly, as a file (Content-Length) or chunks (chunked)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.digest = hashlib.sha256()
        self._blocks = bytes(range(256)) * (2 * MIB // 256)

    def __len__(self) -> int:
        return self.total

    def read(self, size: int = -1) -> bytes:
        size = min(MIB if size < 0 else size, MIB, self.total - self.sent)
        start = self.sent % 256
        piece = self._blocks[start : start + size]
        self.sent += len(piece)
        self.digest.update(piece)
        return piece

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.read(MIB):
            yield chunk


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_large_upload_streams_through_in_bounded_memory(
    gateway: GatewayHarness, framing: str
) -> None:
    # Warm the worker up (first request builds the gateway) before measuring.
    assert requests.post(gateway.url + "/apps/x/deploy", headers=TOKEN, data=b"x" * MIB).ok
    (worker,) = gateway.worker_pids()
    before = rss_kib(worker)

    body = Generated(UPLOAD)
    headers = dict(TOKEN, **{"Content-Type": "application/octet-stream"})
    data = body if framing == "content-length" else body.chunks()
    resp = requests.post(gateway.url + "/apps/x/deploy", headers=headers, data=data, timeout=300)
    assert resp.status_code == 200
    seen = resp.json()
    assert seen["body_length"] == UPLOAD
    assert seen["body_sha256"] == body.digest.hexdigest()
    if framing == "content-length":
        assert seen["headers"]["content-length"] == str(UPLOAD)
    else:
        assert seen["headers"]["transfer-encoding"] == "chunked"

    after = rss_kib(worker)
    assert after - before < RSS_BOUND_KIB, (before, after)
