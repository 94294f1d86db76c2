"""Target locks under contention: threads and OS processes on the real database."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
from bson import ObjectId
from pymongo.database import Database

from shared.events import EVENTS, EventLocked, EventRecorder, MongoEventStorage, Target
from shared.events.model import now
from shared.events.tests import _racer
from shared.events.tests.factories import start_spec

pytestmark = pytest.mark.integration

PROCESSES = 4
THREADS = 10
WINS = 2


def _assert_disjoint(intervals: list[tuple[float, float, str]]) -> None:
    ordered = sorted(intervals)
    for (_, prev_end, prev), (begin, _, cur) in zip(ordered, ordered[1:], strict=False):
        assert begin >= prev_end, f"{cur} entered at {begin} while {prev} held until {prev_end}"


def test_many_racers_in_threads_and_processes_hold_the_lock_one_at_a_time(
    mongo_url: str, events_db: Database
) -> None:
    MongoEventStorage(events_db).ensure_indexes()
    # Start from a stale lock of a dead holder: the first wave of racers all try to
    # take it over at once, and exactly one may win.
    dead = ObjectId()
    old = now().replace(year=2020)
    events_db[EVENTS].insert_one(
        {"_id": dead, "running": True, "lockupdatetime": old, "error": "", "starttime": old,
         "lockkeys": [_racer.CONTENDED.lock_id], "kind": {"name": "pool.update"},
         "owner": {"type": "user", "name": "ghost"},
         "target": {"type": "pool", "value": "contended"}}
    )  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_racer.race, args=(mongo_url, events_db.name, f"p{i}", THREADS, WINS, out)
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    intervals: list = []
    for _ in procs:
        intervals.extend(out.get(timeout=240))
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert len(intervals) == PROCESSES * THREADS * WINS
    _assert_disjoint(intervals)
    winners = events_db[EVENTS].count_documents({"kind.name": "pool.update", "_id": {"$ne": dead}})
    assert winners == PROCESSES * THREADS * WINS  # lock conflicts stored nothing
    assert events_db[EVENTS].count_documents({"running": True}) == 0
    assert (
        events_db[EVENTS]
        .find_one({"_id": dead})["error"]
        .startswith("event expired, no update for ")
    )


def test_killed_holder_lock_is_taken_after_expiry(mongo_url: str, events_db: Database) -> None:
    MongoEventStorage(events_db).ensure_indexes()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    holder = ctx.Process(target=_racer.hold_forever, args=(mongo_url, events_db.name, 2.0, out))
    holder.start()
    held_id = ObjectId(out.get(timeout=60))
    impatient = EventRecorder(MongoEventStorage(events_db), lock_expiry=2.0, app_lock_retry=0.0)
    with pytest.raises(EventLocked, match="victim-holder"):
        impatient.start(start_spec(target=Target("app", "victim")))
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    patient = EventRecorder(MongoEventStorage(events_db), lock_expiry=2.0, app_lock_retry=120.0)
    evt = patient.start(start_spec(target=Target("app", "victim")))
    dead = events_db[EVENTS].find_one({"_id": held_id})
    assert dead["running"] is False
    assert dead["error"].startswith("event expired, no update for ")
    holder_now = events_db[EVENTS].find_one({"running": True, "lockkeys": "app(victim)"})
    assert holder_now["_id"] == evt.id
    evt.done()
    patient.close()


def test_a_holder_killed_mid_mutation_leaves_no_lock_past_the_expiry(
    mongo_url: str, events_db: Database
) -> None:
    """kill -9 of the process inside its mutation: the running event (its lock) stays
    until nobody has refreshed it for the expiry, then the cleaner alone frees it."""
    MongoEventStorage(events_db).ensure_indexes()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    holder = ctx.Process(target=_racer.hold_forever, args=(mongo_url, events_db.name, 2.0, out))
    holder.start()
    held_id = ObjectId(out.get(timeout=60))
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    cleaner = EventRecorder(MongoEventStorage(events_db), lock_expiry=2.0, heartbeat=0)
    held = {"running": True, "lockkeys": "app(victim)"}
    assert events_db[EVENTS].find_one(held)["_id"] == held_id  # still locked: not expired
    deadline = time.monotonic() + 60
    while cleaner.expire_stale() == 0:
        assert time.monotonic() < deadline, "the dead holder's event never expired"
        time.sleep(0.2)
    assert events_db[EVENTS].find_one(held) is None
    dead = events_db[EVENTS].find_one({"_id": held_id})
    assert dead["error"].startswith("event expired, no update for ")
    # Freed only once silent for the expiry (its last beat, before the kill).
    assert (dead["endtime"] - dead["lockupdatetime"]).total_seconds() >= 2.0
    cleaner.start(start_spec(target=Target("app", "victim"))).done()


def test_heartbeat_keeps_a_long_lock_alive_past_the_expiry(events_db: Database) -> None:
    storage = MongoEventStorage(events_db)
    storage.ensure_indexes()
    holder_rec = EventRecorder(storage, lock_expiry=2.0, heartbeat=0.2)
    other = EventRecorder(storage, lock_expiry=2.0, app_lock_retry=0.0)
    holder = holder_rec.start(start_spec(target=Target("pool", "long")))
    first_beat = events_db[EVENTS].find_one({"_id": holder.id})["lockupdatetime"]
    time.sleep(3.0)  # longer than lock_expiry: only the heartbeat keeps the lock
    assert events_db[EVENTS].find_one({"_id": holder.id})["lockupdatetime"] > first_beat
    with pytest.raises(EventLocked):
        other.start(start_spec(target=Target("pool", "long")))
    assert other.expire_stale() == 0
    assert events_db[EVENTS].find_one({"_id": holder.id})["running"] is True
    holder.done()
    assert events_db[EVENTS].find_one({"_id": holder.id})["error"] == ""
    other.start(start_spec(target=Target("pool", "long"))).done()
    holder_rec.close()
