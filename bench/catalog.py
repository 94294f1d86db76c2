"""The catalog's costs through the gateway, against a service API on 127.0.0.1.

    python -m bench.catalog [--instances 40] [--api-delay 0.05]

Starts its own stack in a temp dir and a tsuru-style service API (the tests' fake)
answering every call after ``--api-delay`` seconds, then times: creating
``--instances`` instances (one service API call each), the instance list
(``GET /services/instances``) and the service info (``GET /services/{name}``: one
info call per instance, eight at a time), an instance's status, and unrelated
requests served while ten status calls wait on the slow API. Prints one table.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from scripts.stack import Stack
from services.catalog.tests.peers.service_api import FakeServiceApi


def _timed(call: Callable[[], requests.Response], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.monotonic()
        resp = call()
        out.append(time.monotonic() - start)
        if resp.status_code >= 400:
            raise SystemExit(f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text}")
    return out


def _row(name: str, values: list[float]) -> str:
    med, top = statistics.median(values) * 1000, max(values) * 1000
    return f"{name:<44} median {med:8.1f} ms   max {top:8.1f} ms   (n={len(values)})"


def run(stack: Stack, api: FakeServiceApi, instances: int) -> list[str]:
    url = stack.url
    email, password = dict(
        line.split("=", 1) for line in Path(stack.data_dir, "admin.txt").read_text().split()
    ).values()
    token = requests.post(f"{url}/auth/login", data={"email": email, "password": password}).json()
    h = {"Authorization": f"bearer {token['token']}"}
    team = f"bench{secrets.token_hex(3)}"
    requests.post(f"{url}/teams", data={"name": team}, headers=h).raise_for_status()
    svc = f"bench-{secrets.token_hex(3)}"
    requests.post(f"{url}/services", data={"id": svc, "password": "p", "endpoint": api.url,
                                           "team": team}, headers=h).raise_for_status()  # fmt: skip
    names = iter(range(instances))
    created = _timed(lambda: requests.post(
        f"{url}/services/{svc}/instances", data={"name": f"i{next(names)}", "owner": team},
        headers=h), instances)  # fmt: skip
    rows = [_row(f"create an instance (API {api.delay * 1000:.0f} ms)", created)]
    rows.append(_row(f"GET /services/instances ({instances} instances)",
                     _timed(lambda: requests.get(f"{url}/services/instances", headers=h), 10)))  # fmt: skip
    rows.append(_row(f"GET /services/{{name}} ({instances} info calls)",
                     _timed(lambda: requests.get(f"{url}/services/{svc}", headers=h), 5)))  # fmt: skip
    rows.append(_row("GET .../status (one API call)", _timed(
        lambda: requests.get(f"{url}/services/{svc}/instances/i0/status", headers=h), 10)))  # fmt: skip
    api.hold("GET", "/resources/i0/status")
    waiting = [threading.Thread(target=lambda: requests.get(
        f"{url}/services/{svc}/instances/i0/status", headers=h)) for _ in range(10)]  # fmt: skip
    for t in waiting:
        t.start()
    api.held.wait(30)
    rows.append(_row("GET /services/{name}/doc, 10 calls on a hung API",
                     _timed(lambda: requests.get(f"{url}/services/{svc}/doc", headers=h), 20)))  # fmt: skip
    api.release()
    for t in waiting:
        t.join(60)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=40)
    parser.add_argument("--api-delay", type=float, default=0.05)
    args = parser.parse_args(argv)
    api = FakeServiceApi(delay=args.api_delay)
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-catalog-") as tmp:
        stack = Stack(Path(tmp), port=None, env_overrides={"TSUBAME_WORKERS": "1",
                                                           "TSUBAME_MONGO_URL": ""})  # fmt: skip
        stack.start()
        try:
            rows = run(stack, api, args.instances)
        finally:
            stack.stop()
            api.close()
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
