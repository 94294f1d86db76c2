"""bench.gateway's app rows: app traffic routed by Host (issue 13), on the bench's own stack.

After the API rows, ``app_rows`` creates a team and an app (platform python), deploys
tests/apps/sample (one unit), adds a server to the bench's nginx (a keep-alive upstream
to the unit, passing the Host and setting the X-Forwarded-* headers the gateway sets)
and reloads it, then measures ``GET /healthcheck`` (the sample app's cheapest answer:
``/`` also reads a file) three ways, each with the app's address (the ``ip`` of
``GET /apps/{app}``) as its Host:

* ``app: unit``: straight to the unit's address (host:port);
* ``app: nginx``: through the bench's nginx;
* ``app: gateway``: through the gateway's port (its app router).

Same load generator, concurrencies and alternated rounds as the API rows; then the
CPU per request of the gateway and of the unit (its app process and its runner, which
reads the app's log line of each request), as for the API rows.
"""

from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.deploy import get_by_host
from bench.gateway import Groups, Result, Target, cpu_cost, nginx_conf
from tests.apps import sample_archive

APP_PATH = "/healthcheck"
Measure = Callable[[list[Target], str], dict[int, dict[str, Result]]]


@dataclass
class AppRows:
    app: str
    host: str  # the app's address, sent as Host
    unit: str  # the unit's host:port
    results: dict[int, dict[str, Result]] = field(default_factory=dict)
    gateway_cost: tuple[float, float] | None = None  # gateway, unit: µs per request
    unit_costs: dict[str, float] = field(default_factory=dict)  # by path

    def lines(self) -> list[str]:
        out = [
            f"App rows: GET {APP_PATH} of tests/apps/sample (app {self.app}, one unit at "
            f"{self.unit}), Host: {self.host} on each; of direct = of the unit."
        ]
        if self.gateway_cost is not None:
            out.append(
                "CPU per request of app traffic through the gateway (3000 sequential "
                f"requests): gateway {self.gateway_cost[0]:.0f} µs, "
                f"unit {self.gateway_cost[1]:.0f} µs"
            )
        if self.unit_costs:
            out.append(
                "The unit's CPU per request by path (its process and its runner; 3000 "
                "sequential requests): "
                + ", ".join(f"{n} {c:.0f} µs" for n, c in self.unit_costs.items())
            )
        return out


def _until_ok(url: str, host: str, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    port = urlsplit(url).port or 80
    while get_by_host(port, host, APP_PATH) != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} never answered 200 to GET {APP_PATH} (Host: {host})")
        time.sleep(0.05)


def _checked(resp: requests.Response, want: int) -> requests.Response:
    if resp.status_code != want:
        raise RuntimeError(f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text}")
    return resp


def deploy_sample(stack: Any, token: str) -> tuple[str, dict[str, Any]]:
    """(name, GET /apps/{name}) of tests/apps/sample deployed as a new app of a new team,
    as tests/e2e/test_app_traffic.py deploys it."""
    admin = {"Authorization": f"bearer {token}"}
    name = f"bench-{secrets.token_hex(4)}"
    _checked(requests.post(f"{stack.url}/teams", data={"name": name}, headers=admin,
                           timeout=30), 201)  # fmt: skip
    _checked(requests.post(f"{stack.url}/apps", headers=admin, timeout=30,
                           data={"name": name, "teamOwner": name, "platform": "python"}),
             201)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-app-") as tmp:
        archive = sample_archive(Path(tmp)).read_bytes()
    r = requests.post(f"{stack.url}/apps/{name}/deploy", headers=admin, timeout=300,
                      files={"file": ("app.tar.gz", io.BytesIO(archive), "application/gzip")})  # fmt: skip
    if r.status_code != 200 or not r.text.rstrip().endswith("OK"):
        raise RuntimeError(f"deploy of {name}: {r.status_code} {r.text[-2000:]}")
    r = _checked(requests.get(f"{stack.url}/apps/{name}", headers=admin, timeout=30), 200)
    return name, dict(r.json())


def unit_groups(stack: Any, unit_id: str) -> tuple[int, ...]:
    """The process groups of a unit: its app process's and its runner's (each its own
    session, services/provisioner/backends/process/launch.py)."""
    from services.provisioner.backends.process import unitfs

    state = unitfs.read_json(str(stack.units_root() / "units" / unit_id / unitfs.STATE)) or {}
    pids = [int(state[key]) for key in ("pid", "runner_pid") if state.get(key)]
    if not pids:
        raise RuntimeError(f"unit {unit_id} has no process in its state: {state}")
    return tuple(sorted({os.getpgid(pid) for pid in pids}))


def nginx_app_server(port: int, unit: str) -> str:
    """The app's server in the bench's nginx: keep-alive upstream to the unit, the Host
    passed and the X-Forwarded-* headers the gateway's app router sets."""
    return f"""  upstream app_unit {{ server {unit}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app_unit;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
    }}
  }}
"""


def nginx_add_app(
    nginx: tuple[subprocess.Popen[bytes], str], workdir: Path, api_upstream: str, unit: str
) -> str:
    """The URL of the app's server added to the bench's running nginx (reloaded)."""
    from scripts.procs import free_port

    port = free_port()
    api_port = urlsplit(nginx[1]).port or 80
    nginx_conf(workdir, api_port, api_upstream, nginx_app_server(port, unit))
    os.kill(nginx[0].pid, signal.SIGHUP)  # the master re-reads its configuration
    return f"http://127.0.0.1:{port}"


def app_rows(
    groups: Groups,
    token: str,
    gateway_url: str,
    measure: Measure,
    nginx: tuple[subprocess.Popen[bytes], str] | None = None,
    nginx_dir: Path | None = None,
    api_upstream: str = "",
) -> AppRows:
    """Deploys the sample app on ``groups.stack`` and measures its rows (see above);
    ``nginx``: the bench's, started in ``nginx_dir`` in front of ``api_upstream``."""
    stack = groups.stack
    name, info = deploy_sample(stack, token)
    started = [u for u in info["units"] if u.get("Status") == "started" and u.get("Address")]
    if not started:
        raise RuntimeError(f"{name} has no started unit: {info['units']}")
    unit, host = str(started[0]["Address"]["Host"]), str(info["ip"])
    rows = AppRows(name, host, unit)
    targets = [Target("app: unit", f"http://{unit}", host=host)]
    if nginx is not None and nginx_dir is not None:
        url = nginx_add_app(nginx, nginx_dir, api_upstream, unit)
        _until_ok(url, host, "nginx's app server")
        targets.append(Target("app: nginx", url, host=host))
    targets.append(Target("app: gateway", gateway_url, host=host))
    _until_ok(gateway_url, host, "the gateway's app router")
    if groups.gateway is not None:
        pgids = groups.gateway, unit_groups(stack, str(started[0]["ID"]))
        for t in targets:
            spent = cpu_cost(*pgids, t.url, APP_PATH, host=host)
            rows.unit_costs[t.name] = spent[1]
            if t.url == gateway_url:
                rows.gateway_cost = spent
    rows.results = measure(targets, APP_PATH)
    return rows
