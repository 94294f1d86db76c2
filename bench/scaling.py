"""Read throughput through the gateway with 1, 2, 3 instances of the serving service.

    python -m bench.scaling                      # starts its own stack in a temp dir
    python -m bench.scaling --counts 1,2,3,4 --clients 50 --seconds 8

One stack (default settings: two gunicorn workers per instance, the gateway with
two). For each route (``/auth/scheme``: public, no database; ``/users/info``: a token,
introspection cached by the gateway, a database read) and each number of auth
instances (rescaled with ``Stack.scale`` between runs) it runs keep-alive GET
requests from ``--clients`` concurrent clients and prints requests/s, p50/p99 latency
and where the CPU went (CPU-seconds per second of wall time of the gateway, the auth
instances, the database and the load generator): on this machine their sum is the
number of cores, which is what bounds the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.gateway import Cell, group_cpu, run_cell

ROUTES = ("/auth/scheme", "/users/info")


def _login(url: str, data_dir: Path) -> str:
    fields = dict(
        line.split("=", 1)
        for line in (data_dir / "admin.txt").read_text().splitlines()
        if "=" in line
    )
    body = f"email={fields['email']}&password={fields['password']}".encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url + "/auth/login", data=body), timeout=30) as resp:
        return str(json.loads(resp.read())["token"])


def _cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(group_cpu(pgid) for pgid in pgids) for name, pgids in groups.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", default="1,2,3", help="auth instances to measure")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]

    from scripts.stack import Stack

    rows: list[tuple[str, int, Cell, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-") as tmp:
        overrides = {
            "TSUBAME_NAMESPACE": f"tsubame_bench_{secrets.token_hex(4)}",
            "TSUBAME_MONGO_URL": "",
        }
        with Stack(Path(tmp) / "data", env_overrides=overrides) as stack:
            token = _login(stack.url, stack.data_dir)
            for count in counts:
                stack.scale({"auth": count})
                time.sleep(1.0)
                pgids = stack.process_groups()
                groups = {
                    "gateway": [pgids["gateway"]],
                    "auth": [
                        pid
                        for name, pid in pgids.items()
                        if name.split("-")[0] == "auth" and "worker" not in name
                    ],
                    "mongo": [pgids["mongo"]],
                }
                for route in ROUTES:
                    headers = (
                        {"Authorization": f"bearer {token}"} if route != "/auth/scheme" else {}
                    )
                    run_cell(stack.url, route, args.clients, 0.5, 0.2, headers)  # warm pools
                    before, t0 = _cpu(groups), os.times()
                    cell = run_cell(
                        stack.url, route, args.clients, args.seconds, args.warmup, headers
                    )
                    after, t1 = _cpu(groups), os.times()
                    spent = {k: (after[k] - before[k]) for k in groups}
                    spent["load generator"] = (t1.user + t1.system) - (t0.user + t0.system)
                    wall = args.seconds + args.warmup
                    rows.append((route, count, cell, {k: v / wall for k, v in spent.items()}))
                    print(
                        f"  {route} auth={count}: {cell.rps:,.0f} req/s ({cell.errors} errors)",
                        file=sys.stderr,
                    )
    print(
        f"GET through the gateway, {args.clients} keep-alive clients, {os.cpu_count()} CPUs; "
        "CPU columns: cores used (CPU-s per s)\n"
    )
    print(
        "| route | auth instances | req/s | p50 ms | p99 ms | errors | gateway | auth | "
        "database | load gen | sum |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for route, count, cell, cpu in rows:
        print(
            f"| {route} | {count} | {cell.rps:,.0f} | {cell.pct(0.5):.1f} | {cell.pct(0.99):.1f} | "
            f"{cell.errors} | {cpu['gateway']:.2f} | {cpu['auth']:.2f} | {cpu['mongo']:.2f} | "
            f"{cpu['load generator']:.2f} | {sum(cpu.values()):.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
