"""The gateway's counters and its /metrics listing of every instance."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import Metrics
from gateway.upstream import Upstream
from shared.identity import verify
from shared.ports import free_port

SECRET = b"metrics-test-secret-0123456789"
REPO = Path(__file__).resolve().parents[2]


def samples(body: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition: (name, labels) -> value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def test_a_listing_is_reused_for_a_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.metrics as module

    metrics = Metrics(None)
    first = metrics.render()
    metrics.count("apps", 200)
    assert metrics.render() == first
    monkeypatch.setattr(module, "REUSE_SECONDS", 0.0)
    assert b'code="200"' in metrics.render()


def test_counts_and_errors_are_listed_with_this_instance() -> None:
    metrics = Metrics(None, instance="gateway")
    metrics.count("apps", 200)
    metrics.count("apps", 200)
    metrics.count("none", 404)
    metrics.error("catalog", "unavailable")
    found = samples(metrics.render())
    requests = "tsubame_gateway_requests_total"
    assert found[key(requests, service="apps", code="200", instance="gateway")] == 2
    assert found[key(requests, service="none", code="404", instance="gateway")] == 1
    errors = "tsubame_gateway_upstream_errors_total"
    assert found[key(errors, service="catalog", kind="unavailable", instance="gateway")] == 1


COUNT = """
import sys
from gateway.metrics import Metrics
m = Metrics(None)
for _ in range(int(sys.argv[1])):
    m.count("auth", 200)
m.error("apps", "timeout")
"""


def _count_in(directory: Path, times: int) -> None:
    """One gateway worker (a process of its own) counting into ``directory``."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run(
        [sys.executable, "-c", COUNT, str(times)], cwd=REPO, env=env, check=True, timeout=60
    )


def test_workers_of_an_instance_are_summed_and_each_instance_listed(tmp_path: Path) -> None:
    root = tmp_path / "run" / "metrics"
    one, two = root / "gateway", root / "gateway-2"
    for d in (one, two, root / "auth"):
        d.mkdir(parents=True)
    _count_in(one, 2)  # two workers of the first instance
    _count_in(one, 3)
    _count_in(two, 4)
    _count_in(root / "auth", 9)  # a service's directory is not a gateway's
    found = samples(Metrics(one).render())
    requests = "tsubame_gateway_requests_total"
    assert found[key(requests, service="auth", code="200", instance="gateway")] == 5
    assert found[key(requests, service="auth", code="200", instance="gateway-2")] == 4
    errors = "tsubame_gateway_upstream_errors_total"
    assert found[key(errors, service="apps", kind="timeout", instance="gateway")] == 2
    assert not [k for k in found if ("instance", "auth") in k[1]]


SERVICE_TEXT = b"""# HELP tsubame_http_request_duration_seconds Seconds.
# TYPE tsubame_http_request_duration_seconds histogram
tsubame_http_request_duration_seconds_bucket{service="auth",method="GET",route="/teams",code="200",le="0.1"} 7.0
tsubame_http_request_duration_seconds_bucket{service="auth",method="GET",route="/teams",code="200",le="+Inf"} 7.0
tsubame_http_request_duration_seconds_count{service="auth",method="GET",route="/teams",code="200"} 7.0
tsubame_http_request_duration_seconds_sum{service="auth",method="GET",route="/teams",code="200"} 0.2
"""


@pytest.fixture
def service() -> Iterator[tuple[str, list[str]]]:
    """An instance answering /internal/metrics to a verified internal identity only."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            header = self.headers.get("X-Tsubame-Identity", "")
            try:
                ident = verify(header, SECRET, method="GET", path=self.path.encode())
                ok = ident.kind == "internal" and self.path == "/internal/metrics"
            except Exception:
                ok = False
            seen.append(self.path)
            body = SERVICE_TEXT if ok else b"no"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_every_service_instance_is_listed_and_a_silent_one_is_down(
    service: tuple[str, list[str]],
) -> None:
    url, seen = service
    gone = f"http://127.0.0.1:{free_port()}"
    upstreams = {"auth": Upstream("auth", [url, gone], timeout=2.0, connect_timeout=1.0)}
    found = samples(Metrics(None, upstreams=upstreams, secret=SECRET).render())
    assert seen == ["/internal/metrics"]
    labels = {"service": "auth", "method": "GET", "route": "/teams", "code": "200"}
    assert found[key("tsubame_http_request_duration_seconds_count", **labels, instance=url)] == 7
    bucket = key("tsubame_http_request_duration_seconds_bucket", **labels, le="0.1", instance=url)
    assert found[bucket] == 7
    assert found[key("tsubame_scrape_up", service="auth", instance=url)] == 1
    assert found[key("tsubame_scrape_up", service="auth", instance=gone)] == 0


def test_an_instance_refusing_the_identity_is_down(service: tuple[str, list[str]]) -> None:
    url, _seen = service
    upstreams = {"auth": Upstream("auth", [url], timeout=2.0, connect_timeout=1.0)}
    found = samples(
        Metrics(None, upstreams=upstreams, secret=b"another-secret-0123456789").render()
    )
    assert found[key("tsubame_scrape_up", service="auth", instance=url)] == 0
    assert not [k for k in found if k[0].startswith("tsubame_http_")]
