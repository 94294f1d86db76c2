"""The apps listing and info through the gateway, with 1,000 and 10,000 apps.

    python -m bench.apps                       # starts its own stack in a temp dir
    python -m bench.apps --sizes 1000 --seconds 10

For each size the stack's apps database is filled with that many apps (written
through the apps store, as creation would leave them: creating 10,000 apps through
the API measures creation, not listing; a few hundred are created through the API to
show that rate too), spread over teams so that the measured team member sees exactly
``--page`` apps whatever the total. Then, with ``--clients`` threads each keeping its
connection:

* ``GET /apps`` as that team member (a page of the list: indexed by team, units from
  one provisioner call): req/s, p50/p99;
* ``GET /apps/{app}`` as the same user: p50/p99;
* ``GET /apps?simplified=true`` as the administrator (every app): req/s.

The page's cost at the largest size over its cost at the smallest is printed as the
ratio the issue asks for (about 1: the page costs the same).

Under each row, the CPU seconds per request each part of the stack spent (user +
system of its processes over the row's run: gateway, apps, auth, provisioner,
catalog, database, workers) and the rate that cost implies on the machine's idle
cores (cores / CPU per request): figures the machine's load does not inflate, unlike
req/s and latencies. The load generator's own CPU per request is shown apart
(``client``); it is not part of the implied rate.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from pymongo import MongoClient

from bench.gateway import group_cpu
from scripts.stack import Stack
from services.apps.domain.models import App, AppRouter, EnvVar, Plan
from services.apps.storage.mongo import INDEXES, mongo_stores
from shared.mongo import ensure_indexes

PASSWORD = "bench-password"


def _admin(stack: Stack) -> str:
    fields = dict(
        line.split("=", 1) for line in (Path(stack.data_dir) / "admin.txt").read_text().splitlines()
        if "=" in line
    )  # fmt: skip
    r = requests.post(f"{stack.url}/auth/login", data=fields, timeout=30)
    r.raise_for_status()
    return str(r.json()["token"])


def _call(stack: Stack, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    r = requests.request(method, stack.url + path, headers={"Authorization": f"bearer {token}"},
                         timeout=60, **kw)  # fmt: skip
    if r.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
    return r


def _member(stack: Stack, admin: str, team: str) -> str:
    email = f"bench-{secrets.token_hex(3)}@example.com"
    _call(stack, admin, "POST", "/users", data={"email": email, "password": PASSWORD})
    role = f"bench-{secrets.token_hex(3)}"
    _call(stack, admin, "POST", "/roles", data={"name": role, "context": "team"})
    _call(stack, admin, "POST", f"/roles/{role}/permissions", data={"permission": ["app"]})
    _call(stack, admin, "POST", f"/roles/{role}/user", data={"email": email, "context": team})
    r = requests.post(f"{stack.url}/auth/login", data={"email": email, "password": PASSWORD})
    return str(r.json()["token"])


def _seed(stack: Stack, start: int, total: int, page: int, team: str, others: list[str]) -> None:
    """Apps ``start``..``total``-1: the first ``page`` of the whole set belong to
    ``team``, the rest round-robin to ``others``."""
    client: MongoClient[dict[str, Any]] = MongoClient(stack.mongo_url, tz_aware=True)
    db = client[f"{stack.namespace}_apps"]
    ensure_indexes(db, INDEXES)
    store = mongo_stores(db).apps
    for i in range(start, total):
        owner = team if i < page else others[i % len(others)]
        store.add(App(
            f"bench-{i:05d}", pool="theonepool", team_owner=owner, teams=[owner],
            owner="admin@tsubame.local", platform="python",
            plan=Plan("c0.1m0.2", 214748364, default=True), routers=[AppRouter("tsubame")],
            env={"TSURU_APPNAME": EnvVar("TSURU_APPNAME", f"bench-{i:05d}", public=False)},
            tags=["bench"],
        ))  # fmt: skip
    client.close()


# The parts of the stack the CPU report names, in its order; a process is filed under
# its log name's role (``apps-2`` is apps, ``apps-worker`` a worker, ``mongo`` the database).
PARTS = ("gateway", "apps", "auth", "provisioner", "catalog", "database", "workers", "other")


def _part(name: str) -> str:
    if name == "mongo":
        return "database"
    if "-worker" in name:
        return "workers"
    role = name.split("-", 1)[0]
    return role if role in PARTS else "other"


class Load:
    """One row's run: latencies, wall time, and the CPU seconds each part spent."""

    def __init__(self, stack: Stack) -> None:
        self._groups = stack.process_groups()
        self.took: list[float] = []
        self.errors: list[str] = []  # answers other than 200/204, first words each
        self.elapsed = 0.0
        self.cpu: dict[str, float] = {}
        self.client_cpu = 0.0

    def _spent(self) -> dict[str, float]:
        spent = dict.fromkeys(PARTS, 0.0)
        for name, pgid in self._groups.items():
            spent[_part(name)] += group_cpu(pgid)
        return spent

    def run(self, url: str, token: str, clients: int, seconds: float) -> Load:
        """``url`` fetched by ``clients`` threads (each keeping its connection) for
        ``seconds``; a request under way at the end is waited for and counted."""
        lock = threading.Lock()
        before, client0, t0 = self._spent(), time.process_time(), time.perf_counter()
        stop = t0 + seconds

        def run() -> None:
            with requests.Session() as http:
                http.headers["Authorization"] = f"bearer {token}"
                mine, failed = [], []
                while time.perf_counter() < stop:
                    t = time.perf_counter()
                    r = http.get(url, timeout=600)
                    if r.status_code in (200, 204):
                        mine.append(time.perf_counter() - t)
                    else:  # counted apart: a failure's cost is not a request's
                        failed.append(f"{r.status_code} {r.text[:80].strip()}")
                with lock:
                    self.took.extend(mine)
                    self.errors.extend(failed)

        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.perf_counter() - t0
        self.client_cpu = time.process_time() - client0
        after = self._spent()
        self.cpu = {part: after[part] - before[part] for part in PARTS}
        return self


def _load(stack: Stack, token: str, path: str, clients: int, seconds: float) -> Load:
    return Load(stack).run(stack.url + path, token, clients, seconds)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _report(label: str, load: Load) -> dict[str, float]:
    took = load.took
    rate = len(took) / load.elapsed if load.elapsed else 0.0
    p50, p99 = _pct(took, 0.50), _pct(took, 0.99)
    print(f"  {label:<44} {rate:8.1f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    if load.errors:
        print(
            f"    {len(load.errors)} failed (CPU counted over all): {sorted(set(load.errors))[:3]}"
        )
    served = max(len(took) + len(load.errors), 1)
    per = {part: 1000 * load.cpu[part] / served for part in PARTS}
    total = sum(per.values())
    cores = os.cpu_count() or 1
    shown = "  ".join(f"{part} {ms:.2f}" for part, ms in per.items() if ms >= 0.005)
    print(f"    CPU ms/request: {shown}  = {total:.2f} ms"
          f" -> {1000 * cores / total if total else 0:.0f} req/s on {cores} idle cores"
          f"  (client {1000 * load.client_cpu / served:.2f})")  # fmt: skip
    return {"rate": rate, "p50": p50, "p99": p99, "cpu": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--page", type=int, default=20, help="apps the team member sees")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--admin-clients", type=int, default=10,
                        help="clients of the admin's full list")  # fmt: skip
    parser.add_argument("--created", type=int, default=200, help="apps created through the API")
    args = parser.parse_args(argv)
    pages: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-apps-") as tmp:
        overrides = {"TSUBAME_NAMESPACE": f"tsubame_bench_{secrets.token_hex(4)}",
                     "TSUBAME_MONGO_URL": ""}  # fmt: skip
        with Stack(Path(tmp) / "data", env_overrides=overrides) as stack:
            admin = _admin(stack)
            teams = [f"bench-team-{i}" for i in range(11)]
            for t in teams:
                _call(stack, admin, "POST", "/teams", data={"name": t})
            team, others = teams[0], teams[1:]
            member = _member(stack, admin, team)

            t0 = time.perf_counter()
            for i in range(args.created):
                _call(
                    stack,
                    admin,
                    "POST",
                    "/apps",
                    data={"name": f"made-{i}", "teamOwner": others[0]},
                )
            made = time.perf_counter() - t0
            print(f"created {args.created} apps through the API: {args.created / made:.1f} apps/s")

            seeded = 0
            for size in sorted(args.sizes):
                _seed(stack, seeded, size, args.page, team, others)
                seeded = size
                print(f"\n{size} apps (+{args.created} created), team member sees {args.page}:")
                _load(stack, member, "/apps", args.clients, 2)  # warm up
                pages[size] = _report("GET /apps (team member's page)",
                                      _load(stack, member, "/apps", args.clients, args.seconds))  # fmt: skip
                _report("GET /apps/{app} (info)",
                        _load(stack, member, "/apps/bench-00007", args.clients, args.seconds))  # fmt: skip
                _report("GET /apps?simplified=true (admin, all apps)",
                        _load(stack, admin, "/apps?simplified=true", args.admin_clients,
                              args.seconds))  # fmt: skip
    if len(pages) > 1:
        small, large = min(pages), max(pages)
        ratio = pages[large]["p50"] / pages[small]["p50"]
        print(f"\npage p50 at {large} / at {small}: {ratio:.2f}  "
              f"(req/s {pages[large]['rate'] / pages[small]['rate']:.2f}, "
              f"CPU per request {pages[large]['cpu'] / pages[small]['cpu']:.2f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
