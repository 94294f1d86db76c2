"""CPU per request of the gateway and of the service under load, on a real stack.

    python -m bench.gateway_cpu [--clients 10] [--seconds 5] [--rounds 2]
    python -m bench.gateway_cpu --checkout ../other    # another checkout's stack

``bench.gateway_floor`` measures a proxy's CPU per request in front of an upstream that
answers at once: the proxy's events come in batches and its caches stay warm. In front
of the real service at 10 connections the machine is the limit (2 cores for wrk, the
gateway and the service) and neither the gateway nor the service is busy all the time:
each wakes for nearly every event, on cold caches, and both spend more per request.
This prints, for wrk straight to the auth service, through nginx (one worker, keep-alive
upstream; when installed) and through the gateway (one worker, as ``bench.gateway``
runs it), the requests per second, how busy the machine was, and the CPU microseconds
per request of the service's processes and of the proxy's, rounds alternated. ``--checkout DIR`` runs DIR's code instead (a git worktree of another
commit), to compare two versions one after the other on the same machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def _machine() -> tuple[int, int]:
    """(all jiffies, idle + iowait jiffies) of /proc/stat's cpu line."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--path", default="/auth/scheme")
    parser.add_argument("--checkout", type=Path, help="run this checkout's stack instead")
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    if args.checkout is not None:
        sys.path.insert(0, str(args.checkout.resolve()))
        for name in [m for m in sys.modules if m.split(".")[0] in ("bench", "scripts")]:
            del sys.modules[name]
    import tempfile

    from bench.gateway import Groups, group_cpu, nginx_in_front, own_stack
    from bench.gateway_floor import tree_cpu

    groups = Groups()
    print(f"wrk -t1 -c{args.clients} -d{args.seconds}s GET {args.path}; gateway with 1 worker")
    print("| round | path | req/s | machine busy | service µs/req | proxy µs/req |")
    print("|---:|---|---:|---:|---:|---:|")
    with (
        own_stack(False, groups, 1) as (url, direct, _token),
        tempfile.TemporaryDirectory(prefix="tsubame-bench-nginx-") as work,
    ):
        assert groups.gateway is not None and groups.service is not None
        gateway_pgid = groups.gateway
        paths: list[tuple[str, str, Callable[[], float]]] = [
            ("direct", direct, lambda: 0.0),
            ("gateway", url, lambda: group_cpu(gateway_pgid)),
        ]
        nginx = nginx_in_front(direct, Path(work))
        if nginx is not None:
            pid = nginx[0].pid
            paths.insert(1, ("nginx", nginx[1], lambda: tree_cpu(pid)))
        try:
            for n in range(1, args.rounds + 1):
                for name, base, proxy_cpu in paths:
                    total0, idle0 = _machine()
                    service0, proxy0 = group_cpu(groups.service), proxy_cpu()
                    cmd = [wrk, "-t1", f"-c{args.clients}", f"-d{args.seconds}s", base + args.path]
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                    total1, idle1 = _machine()
                    service1, proxy1 = group_cpu(groups.service), proxy_cpu()
                    line = next(x for x in out.splitlines() if x.startswith("Requests/sec"))
                    rps = float(line.split()[1])
                    done = rps * args.seconds
                    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
                    print(
                        f"| {n} | {name} | {rps:,.0f} | {busy:.0%} | "
                        f"{(service1 - service0) / done * 1e6:.0f} | "
                        f"{(proxy1 - proxy0) / done * 1e6:.0f} |",
                        flush=True,
                    )
        finally:
            if nginx is not None:
                nginx[0].terminate()
                nginx[0].wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
