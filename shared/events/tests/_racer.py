"""Process entry points for the lock tests (importable, so ``spawn`` can run them)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from pymongo import MongoClient

from shared.events import (
    Allowed,
    EventLocked,
    EventRecorder,
    EventSpec,
    MongoEventStorage,
    Owner,
    Target,
)

CONTENDED = Target("pool", "contended")


def _spec(tag: str, target: Target = CONTENDED) -> EventSpec:
    return EventSpec(
        target=target,
        kind="pool.update",
        owner=Owner("user", tag),
        allowed=Allowed("pool.read.events", (("pool", target.value),)),
    )


def race(mongo_url: str, db_name: str, tag: str, threads: int, wins: int, out: Any) -> None:
    """Each thread loops until it has held the contended lock ``wins`` times.

    Every win reports ``(start, end, tag)`` measured inside the locked body.
    """
    client: MongoClient = MongoClient(mongo_url, tz_aware=True)
    recorder = EventRecorder(MongoEventStorage(client[db_name]), instance=tag)
    intervals: list[tuple[float, float, str]] = []
    mutex = threading.Lock()

    def worker(n: int) -> None:
        me = f"{tag}-{n}"
        rng = random.Random(me)
        won = 0
        while won < wins:
            try:
                with recorder.record(_spec(me)):
                    begin = time.time()
                    time.sleep(0.003)
                    end = time.time()
            except EventLocked:
                time.sleep(rng.uniform(0, 0.01))
                continue
            won += 1
            with mutex:
                intervals.append((begin, end, me))

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    recorder.close()
    client.close()
    out.put(intervals)


def hold_forever(mongo_url: str, db_name: str, lock_expiry: float, out: Any) -> None:
    """Take the lock of ``app(victim)``, report the event id, then hang (to be killed)."""
    client: MongoClient = MongoClient(mongo_url, tz_aware=True)
    recorder = EventRecorder(
        MongoEventStorage(client[db_name]), lock_expiry=lock_expiry, heartbeat=lock_expiry / 4
    )
    evt = recorder.start(_spec("victim-holder", Target("app", "victim")))
    out.put(evt.unique_id)
    while True:
        time.sleep(60)
