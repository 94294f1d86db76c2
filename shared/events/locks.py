"""Target locks: one document per locked target, ``_id`` = ``<type>(<value>)``.

Taking a lock is an insert that fails on the unique ``_id`` when someone holds it.
The holder refreshes ``updated`` every heartbeat; a lock not refreshed for
``lock_expiry`` seconds belongs to a dead holder: the newcomer takes it over with an
update guarded by the stale ``(event, updated)`` pair, so of two racers only one
wins, and finishes the dead event with tsuru's expiry error (§2.9).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.events.errors import EventLocked
from shared.events.model import (
    EVENTS,
    FINISHED_KEY,
    LOCKS,
    aware,
    go_duration,
    now,
    rfc3339_seconds,
)
from shared.mongo import Db

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], None]

# Give up after this many insert/takeover rounds on one lock (each round means
# the lock changed hands under us; in practice one or two rounds happen).
_MAX_ROUNDS = 20


def locked_message(holder: Mapping[str, Any]) -> str:
    target = holder.get("target") or {}
    owner = holder.get("owner") or {}
    return (
        f"event locked: {target.get('type', '')}({target.get('value', '')}) running "
        f'"{holder.get("kind", "")}" start by {owner.get("type", "")} {owner.get("name", "")} '
        f"at {rfc3339_seconds(holder['starttime'])}"
    )


def acquire(
    db: Db,
    lock_ids: Iterable[str],
    holder: Mapping[str, Any],
    *,
    lock_expiry: float,
    publish: Publish | None = None,
) -> None:
    """Take every lock or none; raise EventLocked describing the holder met."""
    taken: list[str] = []
    try:
        for lock_id in lock_ids:
            _acquire_one(db, lock_id, holder, lock_expiry=lock_expiry, publish=publish)
            taken.append(lock_id)
    except BaseException:
        if taken:
            db[LOCKS].delete_many({"_id": {"$in": taken}, "event": holder["event"]})
        raise


def _acquire_one(
    db: Db,
    lock_id: str,
    holder: Mapping[str, Any],
    *,
    lock_expiry: float,
    publish: Publish | None,
) -> None:
    locks = db[LOCKS]
    for _ in range(_MAX_ROUNDS):
        current = now()
        try:
            locks.insert_one({"_id": lock_id, **holder, "updated": current})
            return
        except DuplicateKeyError:
            pass
        existing = locks.find_one({"_id": lock_id})
        if existing is None:
            continue  # released between our insert and our read
        updated = aware(existing["updated"])
        if current - updated < timedelta(seconds=lock_expiry):
            raise EventLocked(locked_message(existing))
        taken = locks.find_one_and_update(
            {"_id": lock_id, "event": existing["event"], "updated": existing["updated"]},
            {"$set": {**holder, "updated": current}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:
            continue  # refreshed or taken by another racer: look again
        finish_expired(db, existing["event"], updated, publish=publish, guard={"running": True})
        return
    raise EventLocked(locked_message(locks.find_one({"_id": lock_id}) or holder))


def finish_expired(
    db: Db,
    event_id: ObjectId,
    last_update: datetime,
    *,
    publish: Publish | None = None,
    guard: Mapping[str, Any] | None = None,
) -> bool:
    """Finish a dead running event and drop the locks it still holds."""
    current = now()
    message = f"event expired, no update for {go_duration((current - last_update).total_seconds())}"
    result = db[EVENTS].update_one(
        {"_id": event_id, "running": True, **(guard or {})},
        {"$set": {"running": False, "endtime": current, "error": message}},
    )
    # A dead event's other locks are dead too (its holder refreshed them together).
    db[LOCKS].delete_many({"event": event_id})
    if result.modified_count and publish is not None:
        notify_finished(publish, event_id)
    return bool(result.modified_count)


def notify_finished(publish: Publish, event_id: ObjectId) -> None:
    try:
        publish(FINISHED_KEY, {"id": str(event_id)})
    except Exception:  # the event is stored; losing the notice only loses webhooks
        log.exception("could not publish %s for event %s", FINISHED_KEY, event_id)


def refresh(db: Db, event_ids: Iterable[ObjectId]) -> None:
    ids = list(event_ids)
    if not ids:
        return
    current = now()
    db[LOCKS].update_many({"event": {"$in": ids}}, {"$set": {"updated": current}})
    db[EVENTS].update_many(
        {"_id": {"$in": ids}, "running": True}, {"$set": {"lockupdatetime": current}}
    )


def release(db: Db, event_id: ObjectId) -> None:
    db[LOCKS].delete_many({"event": event_id})


def expire_stale_events(db: Db, lock_expiry: float, *, publish: Publish | None = None) -> int:
    """Finish running events nobody refreshed for ``lock_expiry`` s; drop dead locks.

    Run periodically by the events worker. Returns how many events it finished.
    """
    cutoff = now() - timedelta(seconds=lock_expiry)
    stale = list(
        db[EVENTS].find(
            {"running": True, "lockupdatetime": {"$lt": cutoff}},
            {"_id": 1, "lockupdatetime": 1},
        )
    )
    finished = 0
    for doc in stale:
        last = doc["lockupdatetime"]
        if finish_expired(
            db, doc["_id"], aware(last), publish=publish, guard={"lockupdatetime": last}
        ):
            finished += 1
    # Locks whose holder died before storing its event, or was finished elsewhere.
    db[LOCKS].delete_many({"updated": {"$lt": cutoff}})
    return finished
