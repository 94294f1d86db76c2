"""Gateway overhead: one cheap endpoint straight to its service, through nginx, through the gateway.

    python -m bench.gateway                      # starts its own stack in a temp dir
    python -m bench.gateway --fake               # gateway in front of fake services
    python -m bench.gateway --url http://127.0.0.1:8080 --direct http://127.0.0.1:PORT \\
        [--token TOKEN]

For each concurrency (1, 10, 50 keep-alive connections by default) it runs ``--seconds``
(split in ``--rounds`` short runs, the paths alternated within each round so that a
change of the machine's load hits them alike) of GET ``--path`` (default
``/auth/scheme``, a public route of the auth service) on each path:

* ``direct``: straight to the service instance;
* ``nginx``: when nginx is installed, one nginx worker proxying to that same instance
  over keep-alive upstream connections (the reference the gateway is measured
  against: goal >= 0.8 of its req/s, p50 <= 1.25x its p50);
* ``gateway``: through the gateway;
* ``gateway+token``: the same route with a valid token (introspection answered from
  the cache, the identity signed and forwarded; goal: costs <= 10 %).

Then, on its own stack (not with ``--url`` or ``--fake``; ``--no-apps``: not at all),
the app rows (bench/gateway_apps.py): tests/apps/sample deployed, GET /healthcheck with
the app's address as Host straight to its unit (``app: unit``), through a second
server of the same nginx (``app: nginx``) and through the gateway (``app: gateway``):
the same goals for app traffic routed by Host.

The stack's gateway runs one worker process (``--gateway-workers``), as nginx runs
one: on this machine's 2 cores shared with the service and the load, one is also the
faster count. The load comes from wrk (one thread) when it is installed, else from the
gevent client below (``--load gevent`` chooses it). It prints req/s, p50 and p99 of every path and
the ratios, then the gateway's and the service's CPU per request.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
from gevent import socket


@dataclass
class Cell:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class _Client:
    """One keep-alive connection sending the same GET again and again."""

    def __init__(
        self, url: str, path: str, headers: dict[str, str] | None = None, host: str = ""
    ) -> None:
        parts = urlsplit(url)
        self.addr = (parts.hostname or "127.0.0.1", parts.port or 80)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host or parts.netloc}\r\nUser-Agent: tsubame-bench\r\n"
            f"{extra}\r\n"
        ).encode()
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.addr)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        return sock

    def once(self) -> int:
        if self.sock is None:
            self.sock = self._connect()
        sock = self.sock
        sock.sendall(self.request)
        while b"\r\n\r\n" not in self.buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        chunked = False
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            while b"\r\n0\r\n\r\n" not in rest and not rest.startswith(b"0\r\n\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                rest += chunk
            end = rest.index(b"0\r\n\r\n") + 5
            self.buf = rest[end:]
        else:
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                rest += chunk
            self.buf = rest[length:]
        if close:
            sock.close()
            self.sock = None
        return status

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def run_cell(
    url: str,
    path: str,
    clients: int,
    seconds: float,
    warmup: float,
    headers: dict[str, str] | None = None,
    host: str = "",
) -> Cell:
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    measuring = {"on": False}
    stop_at = {"t": float("inf")}

    def worker() -> None:
        client = _Client(url, path, headers, host)
        try:
            while True:
                started = time.perf_counter()
                if started >= stop_at["t"]:
                    return
                try:
                    status = client.once()
                except OSError:
                    client.close()
                    status = 0
                took = time.perf_counter() - started
                if measuring["on"]:
                    if status == 200:
                        counts["ok"] += 1
                        latencies.append(took)
                    else:
                        counts["errors"] += 1
        finally:
            client.close()

    begin = time.perf_counter()
    stop_at["t"] = begin + warmup + seconds
    greenlets = [gevent.spawn(worker) for _ in range(clients)]
    gevent.sleep(warmup)
    measuring["on"] = True
    t0 = time.perf_counter()
    gevent.joinall(greenlets)
    elapsed = time.perf_counter() - t0
    return Cell(counts["ok"], counts["errors"], elapsed, latencies)


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state (3rd field of stat); pgrp is the 5th, utime/stime 14th/15th.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass
class Groups:
    gateway: int | None = None
    service: int | None = None
    stack: Any = None  # the stack started for the run (scripts.stack.Stack), else None


def cpu_cost(
    gateway: int,
    service: Sequence[int],
    url: str,
    path: str,
    requests: int = 3000,
    headers: dict[str, str] | None = None,
    host: str = "",
) -> tuple[float, float]:
    """CPU microseconds per request spent by the gateway's process group and by the
    service's (an app unit: its process's and its runner's)."""
    run_cell(url, path, 10, 0.5, 0.2, headers, host)  # warm up connections and caches

    def spent() -> tuple[float, float]:
        return group_cpu(gateway), sum(group_cpu(pgid) for pgid in service)

    before = spent()
    client = _Client(url, path, headers, host)
    for _ in range(requests):
        client.once()
    client.close()
    after = spent()
    return tuple((a - b) / requests * 1e6 for a, b in zip(after, before, strict=True))  # type: ignore[return-value]


@dataclass
class Result:
    """One path at one concurrency, summed over its rounds."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50s: list[float] = field(default_factory=list)  # ms, one per round
    p99s: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.p50s) if self.p50s else float("nan")

    @property
    def p99(self) -> float:
        return statistics.median(self.p99s) if self.p99s else float("nan")

    def add(self, requests: int, errors: int, seconds: float, p50: float, p99: float) -> None:
        self.requests += requests
        self.errors += errors
        self.seconds += seconds
        if p50 == p50 and p99 == p99:  # not NaN
            self.p50s.append(p50)
            self.p99s.append(p99)


@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    host: str = ""  # the Host sent (default: the URL's)


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(value: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value)
    if not m:
        raise ValueError(f"wrk latency {value!r}")
    return float(m.group(1)) * _WRK_UNITS[m.group(2)]


def run_wrk(
    wrk: str, target: Target, path: str, clients: int, seconds: float
) -> tuple[int, int, float, float, float]:
    """(requests, errors, seconds, p50 ms, p99 ms) of one wrk run."""
    duration = max(1, round(seconds))
    cmd = [wrk, "-t1", f"-c{clients}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for name, value in {**target.headers, **({"Host": target.host} if target.host else {})}.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*cmd, target.url.rstrip("/") + path], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m),", out, re.M)
    if not m:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests = int(m.group(1))
    elapsed = _wrk_ms(m.group(2) + m.group(3)) / 1000
    pct = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = 0
    if e := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(e.group(1))
    if e := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in e.groups())
    if "50" not in pct or "99" not in pct:
        print(f"no latency distribution in wrk's output:\n{out}", file=sys.stderr)
        return requests - errors, errors, elapsed, float("nan"), float("nan")
    return requests - errors, errors, elapsed, _wrk_ms(pct["50"]), _wrk_ms(pct["99"])


def run_gevent(
    target: Target, path: str, clients: int, seconds: float, warmup: float
) -> tuple[int, int, float, float, float]:
    cell = run_cell(target.url, path, clients, seconds, warmup, target.headers, target.host)
    return cell.requests, cell.errors, cell.seconds, cell.pct(0.5), cell.pct(0.99)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def table(results: dict[int, dict[str, Result]], path: str, load: str, workers: str) -> str:
    out = [
        f"GET {path}, keep-alive connections, load from {load}; {workers}",
        "",
        "| conns | path | req/s | of direct | of nginx | p50 ms | p50 / nginx | p99 ms | errors |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    goals = []
    for clients, cells in results.items():
        for name, cell in cells.items():
            # App rows (bench/gateway_apps.py) are measured against the unit and nginx
            # in front of it, the API rows against the service and nginx in front of it.
            app = name.startswith("app: ")
            direct = cells.get("app: unit" if app else "direct")
            nginx = cells.get("app: nginx" if app else "nginx")
            out.append(
                f"| {clients} | {name} | {cell.rps:,.0f} | "
                f"{_ratio(cell.rps, direct.rps) if direct else '-'} | "
                f"{_ratio(cell.rps, nginx.rps) if nginx else '-'} | {cell.p50:.2f} | "
                f"{_ratio(cell.p50, nginx.p50) if nginx else '-'} | {cell.p99:.2f} | "
                f"{cell.errors} |"
            )
        line = []
        for prefix in ("", "app: "):
            gw, nginx = cells.get(f"{prefix}gateway"), cells.get(f"{prefix}nginx")
            if gw and nginx and nginx.rps and nginx.p50:
                rps_ok = gw.rps >= 0.8 * nginx.rps
                p50_ok = gw.p50 <= 1.25 * nginx.p50
                line.append(
                    f"{prefix}gateway/nginx req/s {gw.rps / nginx.rps:.2f} "
                    f"({'ok' if rps_ok else 'MISS'} >= 0.8), p50 {gw.p50 / nginx.p50:.2f}x "
                    f"({'ok' if p50_ok else 'MISS'} <= 1.25)"
                )
        gw, token = cells.get("gateway"), cells.get("gateway+token")
        if gw and token and gw.rps:
            cost = 1 - token.rps / gw.rps
            line.append(f"token costs {cost:+.0%} ({'ok' if cost <= 0.10 else 'MISS'} <= 10 %)")
        goals.append(f"{clients:>3} conns: " + "; ".join(line))
    return "\n".join([*out, "", *goals])


def nginx_conf(workdir: Path, port: int, upstream: str, servers: str = "") -> Path:
    """nginx.conf of ``nginx_in_front``; ``servers``: more of the http block (the app
    rows add theirs, bench/gateway_apps.py)."""
    server = urlsplit(upstream).netloc
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
error_log {workdir}/nginx-error.log;
pid {workdir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/nginx-body;
  proxy_temp_path {workdir}/nginx-proxy;
  upstream service {{ server {server}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
{servers}}}
"""
    )
    return conf


def nginx_in_front(upstream: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """One nginx worker proxying to ``upstream`` over keep-alive connections, or None."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else ""
    )
    if not binary:
        return None
    from scripts.procs import free_port

    port = free_port()
    conf = nginx_conf(workdir, port, upstream)
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"], cwd=workdir
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            gevent.sleep(0.05)
    proc.kill()
    proc.wait(10)
    return None


@contextmanager
def own_stack(
    fake: bool, groups: Groups, gateway_workers: int | None = None
) -> Iterator[tuple[str, str, str]]:
    """(gateway URL, direct URL of the auth service, a valid token) of a stack started
    for the run; ``gateway_workers``: TSUBAME_GATEWAY_WORKERS (None: the default)."""
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-") as tmp:
        if fake:
            from gateway.tests.harness import GatewayHarness

            with GatewayHarness(
                Path(tmp), workers=int(os.environ.get("TSUBAME_WORKERS", "2"))
            ) as h:
                assert h.gateway is not None and h.services["auth"][0].proc is not None
                groups.gateway = h.gateway.pid
                groups.service = h.services["auth"][0].proc.pid
                yield h.url, h.services["auth"][0].url, "good-bench"
            return
        from scripts.stack import Stack

        os.chmod(tmp, 0o711)  # app users traverse it to their units (the app rows)
        overrides = {
            "TSUBAME_NAMESPACE": f"tsubame_bench_{secrets.token_hex(4)}",
            "TSUBAME_MONGO_URL": "",
        }
        if gateway_workers is not None:
            overrides["TSUBAME_GATEWAY_WORKERS"] = str(gateway_workers)
        stack = Stack(Path(tmp) / "data", port=None, env_overrides=overrides)
        stack.start()
        try:
            pgids = stack.process_groups()
            groups.gateway, groups.service = pgids["gateway"], pgids["auth"]
            groups.stack = stack
            yield stack.url, stack.service_urls("auth")[0], _admin_token(stack)
        finally:
            stack.stop()


def _admin_token(stack: Any) -> str:
    """A session token of the stack's first admin (its credentials are in admin.txt)."""
    import requests

    fields = dict(
        line.split("=", 1)
        for line in (Path(stack.data_dir) / "admin.txt").read_text().splitlines()
        if "=" in line
    )
    resp = requests.post(
        f"{stack.url}/auth/login",
        data={"email": fields["email"], "password": fields["password"]},
        timeout=30,
    )
    resp.raise_for_status()
    return str(resp.json()["token"])


def rounds(
    targets: list[Target],
    path: str,
    concurrency: list[int],
    args: argparse.Namespace,
    wrk: str | None,
) -> dict[int, dict[str, Result]]:
    """Each concurrency: ``args.rounds`` rounds, each target once in each (alternated)."""
    results: dict[int, dict[str, Result]] = {}
    for clients in concurrency:
        cells = {t.name: Result() for t in targets}
        for _ in range(args.rounds):
            for t in targets:
                seconds = args.seconds / args.rounds
                got = (
                    run_wrk(wrk, t, path, clients, seconds)
                    if wrk
                    else run_gevent(t, path, clients, seconds, args.warmup)
                )
                cells[t.name].add(*got)
        results[clients] = cells
        print(
            f"  {clients:>3} connections: "
            + ", ".join(f"{n} {c.rps:,.0f} req/s" for n, c in cells.items()),
            file=sys.stderr,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="gateway URL (default: start a stack)")
    parser.add_argument("--direct", help="the service's own URL (with --url)")
    parser.add_argument("--token", default="", help="a valid token (with --url)")
    parser.add_argument("--fake", action="store_true", help="fake services instead of the stack")
    parser.add_argument("--path", default="/auth/scheme")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=8.0, help="per path and concurrency")
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=4, help="alternating runs per cell")
    parser.add_argument("--load", choices=("auto", "wrk", "gevent"), default="auto")
    parser.add_argument("--no-nginx", action="store_true", help="leave the nginx column out")
    parser.add_argument("--no-apps", action="store_true", help="no app rows (none: --url, --fake)")
    parser.add_argument(
        "--gateway-workers",
        type=int,
        default=1,
        help="the stack gateway's worker processes (default 1, as nginx's one worker; "
        "0: TSUBAME_GATEWAY_WORKERS or TSUBAME_WORKERS as the stack would)",
    )
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.clients.split(",")]

    if args.url and not args.direct:
        parser.error("--url needs --direct (the service URL to compare with)")
    wrk = shutil.which("wrk") if args.load != "gevent" else None
    if args.load == "wrk" and not wrk:
        parser.error("wrk is not installed")

    @contextmanager
    def given() -> Iterator[tuple[str, str, str]]:
        yield args.url, args.direct, args.token

    groups = Groups()
    gateway_workers = args.gateway_workers or None
    target = given() if args.url else own_stack(args.fake, groups, gateway_workers)
    cost = token_cost = None
    service_costs: dict[str, float] = {}
    note = ""
    apps = None
    with (
        target as (gateway_url, direct_url, token),
        tempfile.TemporaryDirectory(prefix="tsubame-bench-nginx-") as nginx_dir,
    ):
        targets = [Target("direct", direct_url)]
        nginx = None if args.no_nginx else nginx_in_front(direct_url, Path(nginx_dir))
        if nginx is not None:
            targets.append(Target("nginx", nginx[1]))
        elif not args.no_nginx:
            note = "nginx is not installed: no nginx column"
        targets.append(Target("gateway", gateway_url))
        if token:
            targets.append(
                Target("gateway+token", gateway_url, {"Authorization": f"bearer {token}"})
            )
        try:
            if groups.gateway is not None and groups.service is not None:
                pgids = groups.gateway, (groups.service,)
                # The service's own CPU per request by each path: a slower hop in front
                # leaves the service idle longer between requests, and on this machine
                # a request served after a longer idle costs the service more CPU.
                for t in (t for t in targets if not t.headers):  # not the token one
                    service_costs[t.name] = cpu_cost(*pgids, t.url, args.path)[1]
                cost = cpu_cost(*pgids, gateway_url, args.path)
                if token:
                    bearer = {"Authorization": f"bearer {token}"}
                    token_cost = cpu_cost(*pgids, gateway_url, args.path, headers=bearer)

            def measure(targets: list[Target], path: str) -> dict[int, dict[str, Result]]:
                return rounds(targets, path, concurrency, args, wrk)

            results = measure(targets, args.path)
            if groups.stack is not None and not args.no_apps:
                from bench.gateway_apps import app_rows

                try:
                    apps = app_rows(
                        groups, token, gateway_url, measure, nginx, Path(nginx_dir), direct_url
                    )
                except Exception as exc:  # noqa: BLE001 - the API rows are still worth printing
                    note += f"\nno app rows: {exc}"
                else:
                    for clients, cells in apps.results.items():
                        results[clients].update(cells)
        finally:
            if nginx is not None:
                nginx[0].terminate()
                nginx[0].wait(10)
    service_workers = os.environ.get("TSUBAME_WORKERS", "2")
    own = not args.url and not args.fake
    workers = (
        f"gateway with {(gateway_workers if own else None) or service_workers} worker(s), "
        f"service with {service_workers}"
        if not args.url
        else "the given gateway and service"
    ) + (", nginx with 1 worker" if nginx is not None else "")
    print(table(results, args.path, "wrk -t1" if wrk else "the gevent client", workers))
    if note:
        print(note)
    if cost is not None:
        print(
            f"\nCPU per request through the gateway (3000 sequential requests): "
            f"gateway {cost[0]:.0f} µs, service {cost[1]:.0f} µs"
        )
    if service_costs:
        print(
            "The service's CPU per request by path (3000 sequential requests): "
            + ", ".join(f"{n} {c:.0f} µs" for n, c in service_costs.items())
        )
    if token_cost is not None:
        print(
            f"The same with a token: gateway {token_cost[0]:.0f} µs, service {token_cost[1]:.0f} µs"
        )
    if apps is not None:
        print("", *apps.lines(), sep="\n")
    print(
        f"\n{os.cpu_count()} CPUs shared by the load generator, nginx, the gateway and the service."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
