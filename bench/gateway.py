"""Gateway overhead: one cheap endpoint through the gateway vs straight to its service.

    python -m bench.gateway                      # starts its own stack in a temp dir
    python -m bench.gateway --fake               # gateway in front of fake services
    python -m bench.gateway --url http://127.0.0.1:8080 --direct http://127.0.0.1:PORT

For each concurrency (1, 10, 50 clients by default) it runs ``--seconds`` (split in
``--rounds`` alternating runs) of keep-alive GET requests of ``--path`` (default ``/auth/scheme``, a public route of
the auth service) against the direct URL and the gateway URL, and prints
throughput, median and p99 latency and the gateway/direct ratios.

The load generator uses gevent sockets and a hand-rolled HTTP/1.1 client so that
the client itself costs little CPU (the machine's CPUs are shared by client,
gateway and service).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
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


def cpu_cost(groups: Groups, url: str, path: str, requests: int = 3000) -> tuple[float, float]:
    """CPU microseconds per request spent by the gateway and by the service."""
    assert groups.gateway is not None and groups.service is not None
    run_cell(url, path, 10, 0.5, 0.2)  # warm up connections and caches
    before = group_cpu(groups.gateway), group_cpu(groups.service)
    client = _Client(url, path)
    for _ in range(requests):
        client.once()
    client.close()
    after = group_cpu(groups.gateway), group_cpu(groups.service)
    return tuple((a - b) / requests * 1e6 for a, b in zip(after, before, strict=True))  # type: ignore[return-value]


def table(rows: list[tuple[int, Cell, Cell]], path: str) -> str:
    out = [
        f"GET {path}: direct = straight to the service, gw = through the gateway",
        "",
        "| clients | direct req/s | gw req/s | gw/direct | direct p50 ms | gw p50 ms | "
        "added p50 ms | direct p99 ms | gw p99 ms | errors (d/gw) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, direct, via in rows:
        ratio = via.rps / direct.rps if direct.rps else float("nan")
        out.append(
            f"| {clients} | {direct.rps:,.0f} | {via.rps:,.0f} | {ratio:.2f} | "
            f"{direct.pct(0.5):.2f} | {via.pct(0.5):.2f} | "
            f"{via.pct(0.5) - direct.pct(0.5):+.2f} | {direct.pct(0.99):.2f} | "
            f"{via.pct(0.99):.2f} | {direct.errors}/{via.errors} |"
        )
    return "\n".join(out)


@contextmanager
def own_stack(fake: bool, groups: Groups) -> Iterator[tuple[str, str]]:
    """(gateway URL, direct URL of the auth service) of a stack started for the run."""
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-") as tmp:
        if fake:
            from gateway.tests.harness import GatewayHarness

            with GatewayHarness(
                Path(tmp), workers=int(os.environ.get("TSUBAME_WORKERS", "2"))
            ) as h:
                assert h.gateway is not None and h.services["auth"][0].proc is not None
                groups.gateway = h.gateway.pid
                groups.service = h.services["auth"][0].proc.pid
                yield h.url, h.services["auth"][0].url
            return
        from scripts.stack import Stack

        overrides = {
            "TSUBAME_NAMESPACE": f"tsubame_bench_{secrets.token_hex(4)}",
            "TSUBAME_MONGO_URL": "",
        }
        stack = Stack(Path(tmp) / "data", port=None, env_overrides=overrides)
        stack.start()
        try:
            pgids = stack.process_groups()
            groups.gateway, groups.service = pgids["gateway"], pgids["auth"]
            yield stack.url, stack.service_urls("auth")[0]
        finally:
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="gateway URL (default: start a stack)")
    parser.add_argument("--direct", help="the service's own URL (with --url)")
    parser.add_argument("--fake", action="store_true", help="fake services instead of the stack")
    parser.add_argument("--path", default="/auth/scheme")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=4, help="alternating runs per cell")
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.clients.split(",")]

    if args.url and not args.direct:
        parser.error("--url needs --direct (the service URL to compare with)")

    @contextmanager
    def given() -> Iterator[tuple[str, str]]:
        yield args.url, args.direct

    groups = Groups()
    target = given() if args.url else own_stack(args.fake, groups)
    cost = None
    with target as (gateway_url, direct_url):
        if groups.gateway is not None:
            cost = cpu_cost(groups, gateway_url, args.path)
        rows = []
        for clients in concurrency:
            # Alternate short runs so that a change in the machine's load (other
            # processes) hits both sides alike.
            direct = Cell(0, 0, 0.0, [])
            via = Cell(0, 0, 0.0, [])
            for _ in range(args.rounds):
                for total, url in ((direct, direct_url), (via, gateway_url)):
                    cell = run_cell(
                        url, args.path, clients, args.seconds / args.rounds, args.warmup
                    )
                    total.requests += cell.requests
                    total.errors += cell.errors
                    total.seconds += cell.seconds
                    total.latencies += cell.latencies
            rows.append((clients, direct, via))
            print(
                f"  {clients:>3} clients: direct {direct.rps:,.0f} req/s, "
                f"gateway {via.rps:,.0f} req/s",
                file=sys.stderr,
            )
    print(table(rows, args.path))
    if cost is not None:
        print(
            f"\nCPU per request through the gateway (3000 sequential requests): "
            f"gateway {cost[0]:.0f} µs, service {cost[1]:.0f} µs"
        )
    cpus = os.cpu_count()
    print(
        f"\n{cpus} CPUs shared by the load generator, the gateway and the service;"
        f" p50/p99 over {statistics.fmean([len(r[1].latencies) for r in rows]):.0f}+ samples."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
