"""What a page of ``GET /deploys`` costs the deploy record store, by collection size.

    python -m bench.deploy_records [--sizes 1000,10000,100000] [--apps 200] [--runs 30]

Starts its own SecantusDB (or uses ``TSUBAME_MONGO_URL``), fills the store with deploy
records across ``--apps`` apps, and times at each size: the newest page of everything (a global grant),
the newest page of one app, a page seen through ten apps (a team member), and a page
skipping 500. The goal: the same cost at 100,000 records as at 1,000.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scripts.mongo import MongoServer
from services.apps.domain.deploys import DeployRecord
from services.apps.storage.deploy_ports import DeployQuery
from services.apps.storage.mongo import deploys as mongo_deploys
from services.apps.storage.mongo.deploys import MongoDeployStore
from shared import mongo
from shared.mongo import Db


def _times(call: Callable[[], object], runs: int) -> tuple[float, float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    out.sort()
    return statistics.median(out), out[max(int(len(out) * 0.99) - 1, 0)]


def fill(db: Db, apps: list[str], count: int, start: int, app_seq: dict[str, int]) -> None:
    """Records as ``MongoDeployStore.add`` stores them, written in batches (the
    bench times reads; one add per record would take hours on SecantusDB)."""
    rng = random.Random(start)
    begin = datetime.now(UTC) - timedelta(days=365)
    docs = []
    for n in range(start, start + count):
        app = rng.choice(apps)
        app_seq[app] = app_seq.get(app, 0) + 1
        when = begin + timedelta(seconds=n * 60)
        record = DeployRecord(f"{n + 1:024x}", app, when, "upload", user="bench@x",
                              finished=when + timedelta(seconds=30), image="img", version=1)  # fmt: skip
        docs.append(mongo_deploys.to_doc(record, n + 1, app_seq[app]))
    for i in range(0, len(docs), 1000):
        db[mongo_deploys.DEPLOYS].insert_many(docs[i : i + 1000])
    counters = db[mongo_deploys.COUNTERS]
    counters.replace_one({"_id": mongo_deploys.ALL}, {"last": start + count}, upsert=True)
    for app, last in app_seq.items():
        counters.replace_one({"_id": app}, {"last": last}, upsert=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = os.environ.get("TSUBAME_MONGO_URL", "")
    server = None
    if not url:
        root = Path(tempfile.mkdtemp(prefix="bench-deploys-"))
        server = MongoServer(root / "data", root / "secantusd.log")
        server.start()
        url = server.url
    client = mongo.connect(url)
    db = client[f"bench_deploys_{secrets.token_hex(3)}"]
    try:
        mongo.ensure_indexes(db, mongo_deploys.INDEXES)
        store = MongoDeployStore(db)
        apps = [f"app{i}" for i in range(args.apps)]
        team = tuple(apps[:10])
        filled = 0
        app_seq: dict[str, int] = {}
        print(f"{'records':>8}  {'query':<34} {'p50 ms':>8} {'p99 ms':>8}")
        for size in sizes:
            fill(db, apps, size - filled, filled, app_seq)
            filled = size
            cases: list[tuple[str, Callable[[], object]]] = [
                ("newest 20 (global grant)", lambda: store.page(DeployQuery(), 0, 20)),
                ("newest 20 of one app", lambda: store.page(DeployQuery(apps=("app7",)), 0, 20)),
                ("newest 20 of ten apps (team)", lambda: store.page(DeployQuery(apps=team), 0, 20)),
                ("skip 500, 20 (global grant)", lambda: store.page(DeployQuery(), 500, 20)),
            ]
            for name, call in cases:
                p50, p99 = _times(call, args.runs)
                print(f"{size:>8}  {name:<34} {p50:8.1f} {p99:8.1f}")
    finally:
        client.drop_database(db.name)
        client.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
