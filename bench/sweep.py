"""Webhook sweep cost with many recently finished events (issue: O(N^2) sweep).

    python -m bench.sweep                       # its own SecantusDB in a temp dir
    python -m bench.sweep --events 10000 --mongo-url mongodb://127.0.0.1:27017/

Fills a fresh database with ``--events`` finished events whose EndTime falls in
the sweep window (finished one minute ago, shaped like the recorder's), adds one
webhook, and times ``services.events.operations.delivery.sweep`` in three states:

* ``unwanted``: nothing dispatched (every notice lost), the webhook wants none;
* ``steady``: everything already dispatched (the common case: notices arrived);
* ``wanted``: nothing dispatched and the webhook wants ``--wanted`` of them (each
  of those costs a fan-out; deliveries are queued into a list, not the broker).

The first two are the best of ``--repeat`` sweeps (default 3).

With ``--old N`` it also times the former algorithm (one dispatched-lookup per
event) on N events, for comparison.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient
from pymongo.database import Database

from services.events.domain.webhooks import Webhook, WebhookFilter
from services.events.operations.delivery import SWEEP_FROM, sweep
from services.events.operations.deps import Deps
from services.events.storage.mongo import INDEXES, mongo_stores
from services.events.storage.mongo.deliveries import DISPATCHES, MongoDeliveryStore
from services.events.tests.fakes import fake_deps
from shared import mongo
from shared.events import EVENTS, MongoEventStorage, documents
from shared.events.model import Allowed, EventRecord, Kind, LogEntry, Owner, Target, now


def event_doc(ended: datetime, kind: str = "app.update.env.set") -> dict[str, Any]:
    """A finished event as the recorder stores it (one env change on one app)."""
    started = ended - timedelta(seconds=1)
    record = EventRecord(
        id=ObjectId(),
        target=Target("app", f"app-{secrets.token_hex(3)}"),
        kind=Kind("permission", kind),
        owner=Owner("user", "dev@example.com"),
        start_time=started,
        end_time=ended,
        lock_update_time=started,
        start_custom_data=[{"name": "Envs.0.Name", "value": "FOO"}],
        structured_log=(LogEntry(started, "---- Setting 1 new environment variables ----\n"),),
        allowed=Allowed("app.read.events", (("team", "bench"),)),
    )
    return documents.to_doc(record)


def fill(db: Database, count: int, wanted: int) -> None:
    ended = now() - timedelta(seconds=60)
    docs = [
        event_doc(ended, kind="app.deploy" if i < wanted else "app.update.env.set")
        for i in range(count)
    ]
    for start in range(0, count, 2000):
        db[EVENTS].insert_many(docs[start : start + 2000])


def mark_all(db: Database) -> None:
    """What the normal path leaves behind: every event's fan-out marked."""
    marks = [{"_id": str(d["_id"]), "endtime": d["endtime"]} for d in db[EVENTS].find()]
    for start in range(0, len(marks), 2000):
        db[DISPATCHES].insert_many(marks[start : start + 2000])


def bench_deps(db: Database) -> Deps:
    """The real stores; the bus publisher records (deliveries queue into a list)."""
    return replace(fake_deps(), stores=mongo_stores(db))


def run_sweep(deps: Deps, repeat: int = 1) -> tuple[float, int]:
    """Best time of ``repeat`` sweeps (the machine's CPUs are shared: the best run is
    the one least disturbed), and how many events the first one fanned out."""
    best, fanned = float("inf"), -1
    for _ in range(repeat):
        started = time.perf_counter()
        count = sweep(deps)
        best = min(best, time.perf_counter() - started)
        fanned = count if fanned < 0 else fanned
    return best, fanned


def old_sweep(db: Database) -> float:
    """The former algorithm: all ids of the window, then one lookup per id."""
    deliveries = MongoDeliveryStore(db)
    current = now()
    started = time.perf_counter()
    ids = sorted(
        str(d["_id"])
        for d in db[EVENTS].find(
            {"endtime": {"$gte": current - timedelta(seconds=SWEEP_FROM)}, "running": False},
            {"_id": 1},
        )
    )
    _ = [i for i in ids if i not in deliveries.dispatched(ids)]
    return time.perf_counter() - started


def fresh_db(client: MongoClient, tag: str) -> Database:
    db = client[f"bench_sweep_{tag}_{secrets.token_hex(3)}"]
    mongo.ensure_indexes(db, INDEXES)
    MongoEventStorage(db).ensure_indexes()
    return db


HOOK = Webhook(
    name="deploys",
    url="http://127.0.0.1:1/",
    team_owner="bench",
    event_filter=WebhookFilter(kind_names=("app.deploy",)),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--wanted", type=int, default=100)
    parser.add_argument("--old", type=int, default=0, help="also time the old sweep on N events")
    parser.add_argument("--repeat", type=int, default=3, help="best of N sweeps per state")
    parser.add_argument("--mongo-url", default="")
    args = parser.parse_args()

    server = None
    url = args.mongo_url
    if not url:
        from scripts.mongo import MongoServer

        tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
        server = MongoServer(tmp / "mongo", tmp / "mongo.log")
        url = server.start()
    client: MongoClient = MongoClient(url, tz_aware=True)
    try:
        db = fresh_db(client, "main")
        fill(db, args.events, 0)
        deps = bench_deps(db)
        deps.stores.webhooks.create(HOOK)
        unwanted, _ = run_sweep(deps, args.repeat)
        mark_all(db)
        steady, _ = run_sweep(deps, args.repeat)
        print(f"events in window: {args.events}")
        print(f"sweep, none dispatched, none wanted: {unwanted:.2f} s")
        print(f"sweep, all dispatched:               {steady:.2f} s")
        client.drop_database(db.name)

        db = fresh_db(client, "wanted")
        fill(db, args.events, args.wanted)
        deps = bench_deps(db)
        deps.stores.webhooks.create(HOOK)
        wanted, fanned = run_sweep(deps)
        print(f"sweep, none dispatched, {fanned} wanted:  {wanted:.2f} s")
        client.drop_database(db.name)

        if args.old:
            db = fresh_db(client, "old")
            fill(db, args.old, 0)
            mark_all(db)
            print(f"old sweep on {args.old} events (all dispatched): {old_sweep(db):.2f} s")
            client.drop_database(db.name)
    finally:
        client.close()
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
