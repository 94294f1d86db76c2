"""Storage at scale: what each list query costs at 1k / 10k / 100k stored documents.

    python -m bench.storage                          # its own stack and SecantusDB
    python -m bench.storage --sizes 1000,10000 --runs 20 --write-seconds 10
    TSUBAME_MONGO_URL=mongodb://127.0.0.1:27017/ python -m bench.storage   # on MongoDB

Starts its own stack (its own database server unless ``TSUBAME_MONGO_URL`` names
one), then for each size fills, in bulk and straight through the stores' own
document mapping (the API would measure creation, not listing):

* ``size`` events (PUT /teams-like, on 100 teams, one every second or so back in time),
* ``size`` deploy records over 200 apps,
* ``10 * size`` log lines over 100 apps (1,000,000 at 100k),
* ``size`` apps (the team member measured sees 20 of them, whatever the size),

and reads them as the admin and as team members (one sees team0's events, 1% of them;
one holds app permissions only and sees none, which reads team0's),

and prints p50/p99 of each list query through the stores and through the gateway,
``--runs`` sequential calls each; for the stores' calls also their round trips (find
commands) and the index keys and documents those examine (explain): the cost
whatever else loads the machine. The events' "one query" rows time the simple sorted
query the windowed pages replaced (``simple_find``), for comparison in the same run.

Writes: ``--clients`` clients each updating its own team (PUT /teams/{name}: an event,
its lock, the update) for ``--write-seconds``, on the empty stack and after the
largest fill: updates per second, latency and the CPU each process spent per update
(``--writes-only``: the first of these alone).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from bson import ObjectId
from pymongo import MongoClient, monitoring

from bench.deploy_records import fill as fill_deploys
from scripts.stack import Stack
from services.apps.domain.models import App, AppQuery, AppRouter, Plan
from services.apps.storage.deploy_ports import DeployQuery
from services.apps.storage.mongo import INDEXES as APPS_INDEXES
from services.apps.storage.mongo import mongo_stores
from services.apps.storage.mongo.apps import APPS, seq
from services.apps.storage.mongo.documents import to_doc as app_doc
from services.apps.storage.mongo.logs import CHUNK, CHUNKS, HEADS
from services.events.domain.filters import EventFilter, Visibility
from services.events.storage.mongo.events import MongoEventStore, event_query, simple_find
from shared.events import EVENTS, Allowed, EventRecord, Kind, MongoEventStorage, Owner, Target
from shared.events import documents as event_docs
from shared.identity import Grant
from shared.mongo import Db, ensure_indexes

PASSWORD = "bench-password"
TEAMS = 100
LOG_APPS = 100
DEPLOY_APPS = 200
PAGE_APPS = 20  # apps the team member sees


def _times(call: Callable[[], object], runs: int) -> tuple[float, float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    out.sort()
    return statistics.median(out), out[min(len(out) - 1, int(len(out) * 0.99))]


class Finds(monitoring.CommandListener):
    """The find commands a store call sends (to count round trips and explain them)."""

    def __init__(self) -> None:
        self.on = False
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on and event.command_name == "find":
            self.sent.append((event.database_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def examined(client: MongoClient[dict[str, Any]], finds: Finds, call: Callable[[], object]) -> str:
    """Round trips of one call and the index keys and documents its finds examine
    (from explain): what a query costs whatever the machine's load."""
    finds.sent, finds.on = [], True
    try:
        call()
    finally:
        finds.on = False
    keys = docs = 0
    for db_name, command in finds.sent:
        command.pop("lsid", None)
        command.pop("$db", None)
        command.pop("$clusterTime", None)
        plan = client[db_name].command("explain", command, verbosity="executionStats")
        stats = plan.get("executionStats") or {}
        keys += int(stats.get("totalKeysExamined") or 0)
        docs += int(stats.get("totalDocsExamined") or 0)
    return f"{len(finds.sent):>3} {keys:>8} {docs:>8}"


# -- fills ----------------------------------------------------------------------------


def fill_events(db: Db, start: int, count: int, newest: datetime) -> None:
    """Events ``start``..``start+count-1``, the n-th about n seconds before ``newest``,
    shaped like a team update's (target, kind, owner, allowed, custom data, log)."""
    rng = random.Random(start)
    docs = []
    for n in range(start, start + count):
        when = newest - timedelta(seconds=n + rng.random())
        team = f"team{rng.randrange(TEAMS)}"
        record = EventRecord(
            id=ObjectId(),
            target=Target("team", team),
            kind=Kind("permission", "team.update"),
            owner=Owner("user", "admin@tsubame.local"),
            start_time=when,
            end_time=when + timedelta(milliseconds=20),
            lock_update_time=when,
            start_custom_data=[{"name": "tag", "value": f"t{n}"}],
            allowed=Allowed("team.read.events", (("team", team),)),
        )
        docs.append(event_docs.to_doc(record))
    for i in range(0, len(docs), 1000):
        db[EVENTS].insert_many(docs[i : i + 1000], ordered=False)


def fill_apps(db: Db, start: int, count: int, team: str, others: list[str]) -> None:
    """Apps ``app<start>``.. : the first PAGE_APPS belong to ``team``, the rest to others."""
    docs = []
    for i in range(start, start + count):
        owner = team if i < PAGE_APPS else others[i % len(others)]
        app = App(
            f"app{i}", pool="theonepool", team_owner=owner, teams=[owner],
            owner="admin@tsubame.local", platform="python",
            plan=Plan("c0.1m0.2", 214748364, default=True), routers=[AppRouter("tsubame")],
            tags=["bench"], seq=seq(),
        )  # fmt: skip
        docs.append(app_doc(app))
    for i in range(0, len(docs), 1000):
        db[APPS].insert_many(docs[i : i + 1000], ordered=False)


def fill_logs(db: Db, count: int, heads: dict[str, int]) -> None:
    """``count`` more log lines spread evenly over LOG_APPS apps, as stored chunks."""
    per_app = count // LOG_APPS
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")  # as LogLine.date
    chunks = []
    for a in range(LOG_APPS):
        app = f"app{a}"
        first = heads.get(app, 0)
        for chunk in range(first // CHUNK, (first + per_app - 1) // CHUNK + 1):
            lo, hi = max(first, chunk * CHUNK), min(first + per_app, (chunk + 1) * CHUNK)
            lines: list[dict[str, Any]] = [{"q": q, "d": now, "m": f"line {q} of {app}: GET / 200", "s": "web",
                      "u": f"{app}-web-1"} for q in range(lo, hi)]  # fmt: skip
            chunks.append(((app, chunk), lines))
        heads[app] = first + per_app
    merged: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for key, lines in chunks:
        merged.setdefault(key, []).extend(lines)
    col = db[CHUNKS]
    new = []
    for (app, chunk), batch in merged.items():
        _id = f"{app}:{chunk}"
        if int(batch[0]["q"]) % CHUNK:  # the chunk was begun by the previous fill
            col.update_one({"_id": _id}, {"$push": {"lines": {"$each": batch}}})
        else:
            new.append({"_id": _id, "app": app, "chunk": chunk, "lines": batch})
    for i in range(0, len(new), 500):
        col.insert_many(new[i : i + 500], ordered=False)
    for app, nxt in heads.items():
        db[HEADS].replace_one({"_id": app}, {"next": nxt}, upsert=True)


# -- the stack ----------------------------------------------------------------------


def _login(stack: Stack, email: str, password: str) -> str:
    r = requests.post(f"{stack.url}/auth/login", data={"email": email, "password": password},
                      timeout=60)  # fmt: skip
    r.raise_for_status()
    return str(r.json()["token"])


def _admin(stack: Stack) -> str:
    text = (Path(stack.data_dir) / "admin.txt").read_text()
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return _login(stack, fields["email"], fields["password"])


def _call(stack: Stack, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    r = requests.request(method, stack.url + path, headers={"Authorization": f"bearer {token}"},
                         timeout=120, **kw)  # fmt: skip
    if r.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
    return r


def _member(stack: Stack, admin: str, team: str, permission: str = "app") -> str:
    email = f"bench-{secrets.token_hex(3)}@example.com"
    _call(stack, admin, "POST", "/users", data={"email": email, "password": PASSWORD})
    role = f"bench-{secrets.token_hex(3)}"
    _call(stack, admin, "POST", "/roles", data={"name": role, "context": "team"})
    _call(stack, admin, "POST", f"/roles/{role}/permissions", data={"permission": [permission]})
    _call(stack, admin, "POST", f"/roles/{role}/user", data={"email": email, "context": team})
    return _login(stack, email, PASSWORD)


def _get(stack: Stack, http: requests.Session, path: str) -> Callable[[], object]:
    def call() -> object:
        r = http.get(stack.url + path, timeout=120)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:200]}")
        return r.content

    return call


def group_cpu(pgids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process group's live processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {pgid: name for name, pgid in pgids.items()}
    total = dict.fromkeys(pgids, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[2] is pgrp (5th field of stat), fields[11]/[12] utime/stime (14th/15th).
        name = names.get(int(fields[2]))
        if name is not None:
            total[name] += (int(fields[11]) + int(fields[12])) / ticks
    return total


def writes(
    stack: Stack, token: str, teams: list[str], seconds: float
) -> tuple[float, float, float]:
    """PUT /teams/{team} by one client per team for ``seconds``: (per s, p50, p99 ms).

    Also prints the CPU milliseconds per update of each process of the stack that spent
    any (the cost whatever else loads the machine)."""
    groups = stack.process_groups()
    cpu_before = group_cpu(groups)
    took: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(team: str) -> None:
        mine = []
        with requests.Session() as http:
            http.headers["Authorization"] = f"bearer {token}"
            n = 0
            while time.monotonic() < stop:
                n += 1
                t0 = time.perf_counter()
                r = http.put(f"{stack.url}/teams/{team}", data={"tag": f"t{n}"}, timeout=120)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:100]}")
        with lock:
            took.extend(mine)

    threads = [threading.Thread(target=run, args=(t,)) for t in teams]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu_after = group_cpu(groups)
    if errors:
        raise RuntimeError(f"{len(errors)} updates failed, first: {errors[0]}")
    spent = {name: (cpu_after[name] - cpu_before[name]) * 1000 / max(1, len(took))
             for name in groups}  # fmt: skip
    shown = sorted(((ms, name) for name, ms in spent.items() if ms >= 0.05), reverse=True)
    print("  CPU ms per update: " + ", ".join(f"{name} {ms:.2f}" for ms, name in shown)
          + f" (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    took.sort()
    pct = lambda q: took[min(len(took) - 1, int(q * len(took)))] * 1000  # noqa: E731
    return len(took) / seconds, pct(0.5), pct(0.99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--write-seconds", type=float, default=15.0)
    parser.add_argument("--writes-only", action="store_true",
                        help="only the writes on the empty stack (no fill, no reads)")  # fmt: skip
    parser.add_argument("--before-runs", type=int, default=3,
                        help="calls of the simple queries the pages replaced")  # fmt: skip
    parser.add_argument("--admin-list-max", type=int, default=10_000,
                        help="time the admin's whole GET /apps up to this many apps")  # fmt: skip
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    overrides = {
        "TSUBAME_NAMESPACE": f"tsubame_bench_{secrets.token_hex(4)}",
        "TSUBAME_MONGO_URL": os.environ.get("TSUBAME_MONGO_URL", ""),
    }
    with tempfile.TemporaryDirectory(prefix="tsubame-bench-storage-") as tmp:
        with Stack(Path(tmp) / "data", env_overrides=overrides) as stack:
            run(stack, sizes, args)
    return 0


def run(stack: Stack, sizes: list[int], args: argparse.Namespace) -> None:
    admin = _admin(stack)
    teams = [f"team{i}" for i in range(TEAMS)]
    for t in teams:
        _call(stack, admin, "POST", "/teams", data={"name": t})
    member = _member(stack, admin, teams[0])
    # Sees team0's events (1% of the events filled); the app member above sees none.
    events_member = _member(stack, admin, teams[0], "team")
    writers = teams[: args.clients]
    rate, p50, p99 = writes(stack, admin, writers, args.write_seconds)
    print(f"PUT /teams/{{name}}, {args.clients} clients, empty log: "
          f"{rate:.1f}/s p50 {p50:.1f} ms p99 {p99:.1f} ms", flush=True)  # fmt: skip
    if args.writes_only:
        return

    finds = Finds()
    client: MongoClient[dict[str, Any]] = MongoClient(
        stack.mongo_url, tz_aware=True, event_listeners=[finds]
    )
    events_db = client[f"{stack.namespace}_events"]
    apps_db = client[f"{stack.namespace}_apps"]
    MongoEventStorage(events_db).ensure_indexes()
    ensure_indexes(apps_db, APPS_INDEXES)
    events = MongoEventStore(events_db)
    stores = mongo_stores(apps_db)
    everyone = Visibility.of([Grant("")])
    newest = datetime.now(UTC) - timedelta(seconds=60)
    latest = EventFilter(limit=20)
    target = EventFilter(limit=20, target_type="team", target_value="team7")
    running = EventFilter(limit=20, running=True)
    of_team0 = Visibility.of([Grant("team", "team", teams[0]), Grant("user", "user", "m@x")])
    of_no_event = Visibility.of([Grant("app", "team", teams[0]), Grant("user", "user", "m@x")])
    member_apps = AppQuery(everything=False, visible_teams=(teams[0],))
    admin_http, member_http, team_http = requests.Session(), requests.Session(), requests.Session()
    admin_http.headers["Authorization"] = f"bearer {admin}"
    member_http.headers["Authorization"] = f"bearer {member}"
    team_http.headers["Authorization"] = f"bearer {events_member}"

    filled = 0
    heads: dict[str, int] = {}
    app_seq: dict[str, int] = {}
    print(f"\n{'size':>7}  {'query':<58} {'p50 ms':>8} {'p99 ms':>8}  finds    keys     docs",
          flush=True)  # fmt: skip
    for size in sizes:
        t0 = time.perf_counter()
        fill_events(events_db, filled, size - filled, newest)
        fill_deploys(apps_db, [f"app{i}" for i in range(DEPLOY_APPS)], size - filled, filled,
                     app_seq)  # fmt: skip
        fill_logs(apps_db, (size - filled) * 10, heads)
        fill_apps(apps_db, filled, size - filled, teams[0], teams[1:])
        print(f"  (filled to {size} in {time.perf_counter() - t0:.0f} s)", flush=True)
        filled = size

        cases: list[tuple[str, Callable[[], object]]] = [
            ("store  events newest 20", lambda: events.find(latest, everyone)),
            ("store  events newest 20, one query (before)",
             lambda: simple_find(events.col, latest, event_query(latest, everyone) or {})),
            ("store  events of team7, 20", lambda: events.find(target, everyone)),
            ("store  events of team7, 20, one query (before)",
             lambda: simple_find(events.col, target, event_query(target, everyone) or {})),
            ("store  events a team0 member sees, 20 (1%)", lambda: events.find(latest, of_team0)),
            ("store  events an app member sees, 20 (none: team0's walked)",
             lambda: events.find(latest, of_no_event)),
            ("store  events running, 20", lambda: events.find(running, everyone)),
            ("store  event kinds", events.kinds),
            ("store  deploys newest 20", lambda: stores.deploys.page(DeployQuery(), 0, 20)),
            ("store  deploys of app7, 20",
             lambda: stores.deploys.page(DeployQuery(apps=("app7",)), 0, 20)),
            (f"store  log of app7, 100 lines ({size * 10} lines)",
             lambda: stores.logs.tail("app7", 100)),
            ("store  apps a team member sees", lambda: list(stores.apps.query(member_apps))),
            ("gw     GET /events?limit=20", _get(stack, admin_http, "/events?limit=20")),
            ("gw     GET /events?target.type=team&target.value=team7&limit=20",
             _get(stack, admin_http, "/events?target.type=team&target.value=team7&limit=20")),
            ("gw     GET /events?limit=20 (team0 member)", _get(stack, team_http, "/events?limit=20")),
            ("gw     GET /events/kinds", _get(stack, admin_http, "/events/kinds")),
            ("gw     GET /deploys?limit=20", _get(stack, admin_http, "/deploys?limit=20")),
            ("gw     GET /deploys?app=app7&limit=20",
             _get(stack, admin_http, "/deploys?app=app7&limit=20")),
            ("gw     GET /apps/app7/log?lines=100",
             _get(stack, admin_http, "/apps/app7/log?lines=100")),
            ("gw     GET /apps (team member, 20 visible)", _get(stack, member_http, "/apps")),
        ]  # fmt: skip
        if size <= args.admin_list_max:
            cases.append(("gw     GET /apps?simplified=true (admin, every app)",
                          _get(stack, admin_http, "/apps?simplified=true")))  # fmt: skip
        for name, call in cases:
            call()  # warm (connections, caches)
            before = name.endswith("(before)")  # the whole collection per call
            p50, p99 = _times(call, min(args.runs, args.before_runs) if before else args.runs)
            cost = examined(client, finds, call) if name.startswith("store") else ""
            print(f"{size:>7}  {name:<58} {p50:8.1f} {p99:8.1f}  {cost}", flush=True)

    rate, p50, p99 = writes(stack, admin, writers, args.write_seconds)
    print(f"\nPUT /teams/{{name}}, {args.clients} clients, {filled} events stored: "
          f"{rate:.1f}/s p50 {p50:.1f} ms p99 {p99:.1f} ms", flush=True)  # fmt: skip
    client.close()


if __name__ == "__main__":
    raise SystemExit(main())
