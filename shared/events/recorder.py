"""EventRecorder: start, log and finish events; hold their target locks meanwhile.

Life cycle per events-and-http.md §2.1: the locks are taken first (a conflict
stores nothing), then active blocks are checked (a blocked event is stored already
finished with the block error), then the event is stored running. Its log stays in
memory until ``done()``, which stores it, releases the locks and publishes
``events.event.finished`` after the write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

from bson import ObjectId

from shared.events import locks
from shared.events.blocks import Block, blocked_message, first_match
from shared.events.bounds import bound_custom_data, bound_log
from shared.events.errors import EventBlocked, EventLocked
from shared.events.model import BLOCKS, EVENTS, ZERO_TIME, Allowed, Target, now
from shared.events.pending import OUTAGE, PendingWrites
from shared.events.storage import ensure_indexes
from shared.identity import Identity
from shared.mongo import Db

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], None]
Owner = Identity | tuple[str, str]

CANCELED_BY_USER = "canceled by user request"
_APP_RETRY_POLL = 0.1
# Seconds between retries of writes owed after a database outage.
_PENDING_RETRY = 1.0


def owner_pair(owner: Owner) -> tuple[str, str]:
    if isinstance(owner, Identity):
        return owner.kind, owner.name
    kind, name = owner
    return str(kind), str(name)


def log_line(when: datetime, message: str) -> str:
    """One entry of the rendered ``Log`` string (tsuru prefixes each write)."""
    return f"{when.strftime('%Y-%m-%d %H:%M:%S %z')}: {message}"


class RunningEvent:
    def __init__(
        self, recorder: EventRecorder, event_id: ObjectId, *, target: Target, kind: str
    ) -> None:
        self._recorder = recorder
        self.id = event_id
        self.target = target
        self.kind = kind
        self._entries: list[tuple[datetime, str]] = []
        self._mutex = threading.Lock()
        self._finished = False
        self._canceled = False

    @property
    def unique_id(self) -> str:
        return str(self.id)

    @property
    def finished(self) -> bool:
        return self._finished

    def log(self, msg: str) -> None:
        """Append one log entry, kept as given (end it with ``\n`` as tsuru's lines do).

        Entries stay in memory until ``done()`` stores them (tsuru shows no log for
        a running event).
        """
        with self._mutex:
            self._entries.append((now(), msg))

    def write(self, data: str | bytes) -> int:
        """File-like alias of ``log`` (streams can tee into the event)."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        self.log(text)
        return len(data)

    def set_other_data(self, data: Any) -> None:
        self._recorder.db[EVENTS].update_one(
            {"_id": self.id}, {"$set": {"othercustomdata": bound_custom_data(data)}}
        )

    def cancel_requested(self) -> bool:
        """True once someone asked to cancel; acknowledges the request (§2.5)."""
        if self._canceled:
            return True
        doc = self._recorder.db[EVENTS].find_one({"_id": self.id}, {"cancelinfo": 1})
        info = (doc or {}).get("cancelinfo") or {}
        if not info.get("asked"):
            return False
        self._recorder.db[EVENTS].update_one(
            {"_id": self.id, "cancelinfo.canceled": False},
            {"$set": {"cancelinfo.canceled": True, "cancelinfo.acktime": now()}},
        )
        self._canceled = True
        return True

    def done(self, error: str | BaseException | None = None, end_custom_data: Any = None) -> None:
        """Finish the event (once; later calls do nothing) and release its locks."""
        with self._mutex:
            if self._finished:
                return
            self._finished = True
            entries = list(self._entries)
        message = str(error) if error is not None else ""
        if not message and self._canceled:
            message = CANCELED_BY_USER
        self._recorder._finish(self, message, end_custom_data, entries)


class EventRecorder:
    def __init__(
        self,
        db: Db,
        *,
        publish: Publish | None = None,
        instance: str = "",
        lock_expiry: float = 300.0,
        heartbeat: float = 30.0,
        app_lock_retry: float = 10.0,
    ) -> None:
        self.db = db
        self.publish = publish
        self.instance = instance
        self.lock_expiry = lock_expiry
        self.heartbeat = heartbeat
        self.app_lock_retry = app_lock_retry
        self._running: dict[ObjectId, RunningEvent] = {}
        self._running_mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Finishes and releases the database refused during an outage (pending.py).
        self._pending = PendingWrites()

    def ensure_indexes(self) -> None:
        ensure_indexes(self.db)

    def close(self) -> None:
        """Stop the heartbeat thread (running events then expire after lock_expiry)."""
        self._stop.set()

    def start(
        self,
        *,
        target: Target,
        kind: str,
        owner: Owner,
        allowed: Allowed,
        custom_data: Any = None,
        extra_targets: Sequence[tuple[Target, bool]] = (),
        lock: bool = True,
        cancelable: bool = False,
        allowed_cancel: Allowed | None = None,
        internal: bool = False,
    ) -> RunningEvent:
        if not kind:
            raise ValueError("event kind is mandatory")
        if not target.type:
            raise ValueError("event target type is mandatory")
        owner_type, owner_name = owner_pair(owner)
        if internal:
            owner_type, owner_name = "internal", ""
        lock_ids = list(
            dict.fromkeys(
                ([target.lock_id] if lock else [])
                + [t.lock_id for t, locked in extra_targets if locked]
            )
        )
        if self._pending:
            self._pending.flush()  # an outage's leftovers must not refuse this event
        deadline = time.monotonic() + (self.app_lock_retry if target.type == "app" else 0.0)
        while True:
            event_id = ObjectId()
            started = now()
            holder = {
                "event": event_id,
                "target": target.to_doc(),
                "kind": kind,
                "owner": {"type": owner_type, "name": owner_name},
                "starttime": started,
            }
            try:
                locks.acquire(
                    self.db,
                    lock_ids,
                    holder,
                    lock_expiry=self.lock_expiry,
                    publish=self.publish,
                )
                break
            except EventLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(_APP_RETRY_POLL)
            except OUTAGE:
                # A lock may have been written before the database went away.
                self._owe(event_id, partial(locks.release, self.db, event_id))
                raise
        doc = {
            "_id": event_id,
            "uniqueid": event_id,
            "starttime": started,
            "endtime": ZERO_TIME,
            "target": target.to_doc(),
            "extratargets": [
                {"target": t.to_doc(), "lock": bool(locked)} for t, locked in extra_targets
            ]
            or None,
            "startcustomdata": bound_custom_data(custom_data),
            "endcustomdata": None,
            "othercustomdata": None,
            "kind": {"type": "internal" if internal else "permission", "name": kind},
            "owner": {"type": owner_type, "name": owner_name},
            "lockupdatetime": started,
            "error": "",
            "log": "",
            "structuredlog": None,
            "cancelinfo": {
                "owner": "",
                "starttime": ZERO_TIME,
                "acktime": ZERO_TIME,
                "reason": "",
                "asked": False,
                "canceled": False,
            },
            "cancelable": bool(cancelable),
            "running": True,
            "lock": bool(lock),
            "allowed": allowed.to_doc(),
            "allowedcancel": (allowed_cancel or Allowed("")).to_doc(),
            "instance": {
                "name": self.instance,
                "port": "",
                "tlsport": "",
                "addresses": [],
                "lastupdate": ZERO_TIME,
            },
        }
        try:
            block = self._matching_block(kind, owner_name, target, custom_data)
            if block is not None:
                message = blocked_message(kind, target, block)
                doc.update(running=False, endtime=now(), error=message)
                self.db[EVENTS].insert_one(doc)
                locks.release(self.db, event_id)
                if self.publish is not None:
                    locks.notify_finished(self.publish, event_id)
                raise EventBlocked(message)
            self.db[EVENTS].insert_one(doc)
        except OUTAGE:
            self._owe(event_id, lambda: self._abandon(event_id))
            raise
        except BaseException:
            locks.release(self.db, event_id)
            raise
        event = RunningEvent(self, event_id, target=target, kind=kind)
        self._track(event)
        return event

    @contextmanager
    def record(self, **kwargs: Any) -> Iterator[RunningEvent]:
        event = self.start(**kwargs)
        try:
            yield event
        except BaseException as exc:
            event.done(error=exc)
            raise
        event.done()

    # -- internals -------------------------------------------------------------

    def _matching_block(
        self, kind: str, owner_name: str, target: Target, custom_data: Any
    ) -> Block | None:
        if target.type == "event-block":
            return None
        blocks = [Block.from_doc(d) for d in self.db[BLOCKS].find({"active": True})]
        return first_match(
            blocks, kind=kind, owner_name=owner_name, target=target, custom_data=custom_data
        )

    def _owe(self, event_id: ObjectId, write: Callable[[], None]) -> None:
        """Keep a write the database refused; the heartbeat retries it."""
        self._pending.add(event_id, write)
        self._ensure_heartbeat()

    def _abandon(self, event_id: ObjectId) -> None:
        """An event whose start failed midway: finish it if it was stored, free its locks."""
        self.db[EVENTS].update_one(
            {"_id": event_id, "running": True},
            {"$set": {"running": False, "endtime": now(), "error": "event start failed"}},
        )
        locks.release(self.db, event_id)

    def _finish(
        self,
        event: RunningEvent,
        error: str,
        end_custom_data: Any,
        entries: list[tuple[datetime, str]],
    ) -> None:
        self._untrack(event)
        ended = now()
        entries = bound_log(entries)
        fields = {
            "running": False,
            "endtime": ended,
            "error": error,
            "endcustomdata": bound_custom_data(end_custom_data),
            "log": "".join(log_line(when, msg) for when, msg in entries),
            "structuredlog": [{"date": when, "message": msg} for when, msg in entries] or None,
        }
        try:
            self._store_finish(event.id, fields)
        except OUTAGE:
            self._owe(event.id, lambda: self._store_finish(event.id, fields))
            raise

    def _store_finish(self, event_id: ObjectId, fields: dict[str, Any]) -> None:
        result = self.db[EVENTS].update_one({"_id": event_id, "running": True}, {"$set": fields})
        locks.release(self.db, event_id)
        if not result.modified_count:
            # Finished elsewhere meanwhile (expired by a newcomer or the cleaner).
            log.warning("event %s was already finished when done() ran", event_id)
            return
        if self.publish is not None:
            locks.notify_finished(self.publish, event_id)

    def _track(self, event: RunningEvent) -> None:
        with self._running_mutex:
            self._running[event.id] = event
        self._ensure_heartbeat()

    def _ensure_heartbeat(self) -> None:
        with self._running_mutex:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="event-heartbeat", daemon=True
                )
                self._thread.start()

    def _untrack(self, event: RunningEvent) -> None:
        with self._running_mutex:
            self._running.pop(event.id, None)

    def _beat(self) -> None:
        last_refresh = time.monotonic()
        while not self._stop.wait(
            min(self.heartbeat, _PENDING_RETRY) if self._pending else self.heartbeat
        ):
            if self._pending:
                self._pending.flush()
            if time.monotonic() - last_refresh < self.heartbeat:
                continue
            last_refresh = time.monotonic()
            with self._running_mutex:
                ids = list(self._running)
            if not ids:
                continue
            try:
                locks.refresh(self.db, ids)
            except Exception:  # keep beating: a transient database error must not kill it
                log.exception("could not refresh event locks")
