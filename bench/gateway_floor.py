"""The floor of each proxy design, side by side in one run: can a Python gateway reach
0.8 of nginx on this machine at all?

    python -m bench.gateway_floor                        # tiny upstream (nginx `return 200`)
    python -m bench.gateway_floor --upstream fake        # gateway/tests/fake_upstream.py
    python -m bench.gateway_floor --upstream stack       # the real auth service (whole stack)

One upstream is started, then, each in front of it:

* ``nginx``: one worker, keep-alive upstream connections (the issue's reference);
* ``gevent-bare``: bench/floor_gevent.py, a gevent proxy with no logic at all;
* ``uvloop-bare``: bench/floor_uvloop.py, the same on asyncio + uvloop + httptools
  (left out when those are not installed);
* ``uvloop+<N>us``: with ``--burn N,...``, the same uvloop proxy spending N more
  microseconds of Python CPU per request (the logic budget: how much per-request work
  a Python proxy on the best loop can add and still reach the goal);
* ``uvloop-lean``: bench/floor_lean.py, the gateway's per-request steps (route table,
  request id, header rules, counter, gunicorn's framing) written lean on that loop;
* ``gateway-<n>w``: the real gateway (gunicorn, gateway.worker.GatewayWorker) with n
  workers (``--gateway-workers``, default 1 and 2); with ``--upstream stack`` the
  stack's own gateway (``gateway-stack``, ``TSUBAME_WORKERS`` = the first count);
* ``baseline-<n>w``: with ``--baseline DIR`` (another checkout, e.g. a git worktree of
  main), that checkout's gateway beside this one's: a change's before/after in one run.

wrk (one thread) drives GET ``--path`` through each at 1, 10 and 50 keep-alive
connections, the proxies alternated within each round (``--rounds``) so a change of
the machine's load hits them alike. For each cell: req/s, p50, p99, their ratios to
nginx, and the proxy's own CPU per request (its processes' user + system time during
the runs over the requests served: the cost of the design, free of the machine's load).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.gateway import Result, Target, nginx_in_front, run_wrk
from scripts.procs import free_port

REPO = Path(__file__).resolve().parents[1]
# What the static upstream answers (the size of /auth/scheme's answer).
STATIC_BODY = '{"name":"native","data":{}}'


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        todo += [int(c) for c in children]
    return total / ticks


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{proc.args!r} not listening after {timeout}s")


@contextmanager
def process(
    argv: list[str],
    port: int,
    log: Path,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        _wait_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def static_upstream(workdir: Path) -> Iterator[str]:
    """A tiny keep-alive HTTP server (one nginx worker answering every GET itself)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
error_log {workdir}/error.log;
pid {workdir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{STATIC_BODY}'; }}
  }}
}}
"""
    )
    argv = [binary, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"]
    with process(argv, port, workdir / "out.log"):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Proxy:
    name: str
    url: str
    pid: int
    cpu: float = 0.0  # seconds, summed over its runs
    requests: int = 0
    results: dict[int, Result] = field(default_factory=dict)


def start_proxies(
    stack: ExitStack,
    upstream: str,
    work: Path,
    gateway_workers: list[int],
    baseline: Path | None = None,
    burns: tuple[float, ...] = (),
) -> list[Proxy]:
    proxies = []
    (work / "nginx").mkdir()
    nginx = nginx_in_front(upstream, work / "nginx")
    if nginx is not None:
        stack.callback(lambda: (nginx[0].terminate(), nginx[0].wait(10)))
        proxies.append(Proxy("nginx", nginx[1], nginx[0].pid))
    bare = [("gevent-bare", "bench.floor_gevent")]
    try:
        import httptools  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # noqa: F401

        bare.append(("uvloop-bare", "bench.floor_uvloop"))
        bare += [(f"uvloop+{b:g}us", f"bench.floor_uvloop --burn-us {b:g}") for b in burns]
        bare.append(("uvloop-lean", "bench.floor_lean"))
    except ImportError:
        print("uvloop or httptools not installed: no uvloop-bare column", file=sys.stderr)
    for name, module in bare:
        port = free_port()
        argv = [sys.executable, "-m", *module.split(), "--port", str(port), "--upstream", upstream]
        (work / f"{name}-metrics").mkdir()
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(work / f"{name}-metrics"))
        proc = stack.enter_context(process(argv, port, work / f"{name}.log", env=env))
        proxies.append(Proxy(name, f"http://127.0.0.1:{port}", proc.pid))
    from gateway.tests.harness import GatewayHarness

    for n in gateway_workers:
        root = work / f"gateway-{n}w"
        root.mkdir()
        h = GatewayHarness(root, workers=n, env={"TSUBAME_AUTH_URLS": upstream})
        stack.enter_context(h)
        assert h.gateway is not None
        proxies.append(Proxy(f"gateway-{n}w", h.url, h.gateway.pid))
        if baseline is not None:
            # The same gateway (same fake services, same settings) from another checkout.
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("TSUBAME_")}
            env.update(h.env, TSUBAME_PORT=str(port))
            env["TSUBAME_DATA_DIR"] += "-baseline"
            gunicorn = Path(sys.executable).with_name("gunicorn")
            argv = [str(gunicorn), "-c", str(baseline / "deploy" / "gunicorn.py")]
            argv += ["gateway.wsgi:app", "--bind", f"127.0.0.1:{port}"]
            argv += ["-k", "gateway.worker.GatewayWorker"]
            proc = stack.enter_context(process(argv, port, root / "baseline.log", baseline, env))
            proxies.append(Proxy(f"baseline-{n}w", f"http://127.0.0.1:{port}", proc.pid))
    return proxies


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and a == a and b == b else "-"


def table(proxies: list[Proxy], concurrency: list[int], path: str, upstream: str) -> str:
    out = [
        f"GET {path} through each proxy to one upstream ({upstream}); wrk -t1, keep-alive",
        "",
        "| conns | proxy | req/s | of nginx | p50 ms | p50 / nginx | p99 ms | errors |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for clients in concurrency:
        ref = next((p.results[clients] for p in proxies if p.name == "nginx"), None)
        for p in proxies:
            r = p.results[clients]
            out.append(
                f"| {clients} | {p.name} | {r.rps:,.0f} | {_ratio(r.rps, ref.rps) if ref else '-'}"
                f" | {r.p50:.3f} | {_ratio(r.p50, ref.p50) if ref else '-'} | {r.p99:.3f}"
                f" | {r.errors} |"
            )
    out += ["", "Proxy CPU per request over all its runs (its processes' user + system time):"]
    for p in proxies:
        per = p.cpu / p.requests * 1e6 if p.requests else float("nan")
        out.append(f"  {p.name:<12} {per:6.0f} µs")
    load = os.getloadavg()
    out.append(
        f"\n{os.cpu_count()} CPUs shared by wrk, the proxies and the upstream; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", choices=("static", "fake", "stack"), default="static")
    parser.add_argument("--path", default="/auth/scheme")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=8.0, help="per proxy and concurrency")
    parser.add_argument("--rounds", type=int, default=4, help="alternating runs per cell")
    parser.add_argument(
        "--gateway-workers", default="1,2", help="a gateway column per worker count"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (git worktree) whose gateway runs beside this one's",
    )
    parser.add_argument(
        "--burn", default="", help="uvloop proxies spending these µs more per request (20,40)"
    )
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.clients.split(",")]
    burns = tuple(float(b) for b in args.burn.split(",") if b)
    workers = [int(w) for w in args.gateway_workers.split(",") if w]
    wrk = shutil.which("wrk")
    if not wrk or not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        parser.error("needs wrk and nginx (apt-get install -y wrk nginx-light)")

    with tempfile.TemporaryDirectory(prefix="tsubame-floor-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        if args.upstream == "static":
            upstream = stack.enter_context(static_upstream(work / "upstream"))
        elif args.upstream == "fake":
            from gateway.tests.harness import FakeService

            (work / "control").mkdir()
            fake = FakeService("auth", free_port(), work / "control", work / "upstream.log")
            fake.start()
            stack.callback(fake.kill)
            upstream = fake.url
        else:
            from bench.gateway import Groups, own_stack

            os.environ["TSUBAME_WORKERS"] = str(workers[0] if workers else 2)
            groups = Groups()
            gateway_url, upstream, _ = stack.enter_context(own_stack(False, groups))
        proxies = start_proxies(
            stack,
            upstream,
            work,
            workers if args.upstream != "stack" else [],
            args.baseline.resolve() if args.baseline else None,
            burns,
        )
        if args.upstream == "stack":
            assert groups.gateway is not None  # the stack's gateway leads its process group
            proxies.append(Proxy("gateway-stack", gateway_url, groups.gateway))
        for clients in concurrency:
            for p in proxies:
                p.results[clients] = Result()
            for _ in range(args.rounds):
                for p in proxies:
                    before = tree_cpu(p.pid)
                    got = run_wrk(
                        wrk, Target(p.name, p.url), args.path, clients, args.seconds / args.rounds
                    )
                    p.cpu += tree_cpu(p.pid) - before
                    p.requests += got[0] + got[1]
                    p.results[clients].add(*got)
            print(
                f"  {clients:>3} connections: "
                + ", ".join(f"{p.name} {p.results[clients].rps:,.0f}" for p in proxies),
                file=sys.stderr,
            )
    print(table(proxies, concurrency, args.path, args.upstream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
