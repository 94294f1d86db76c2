"""EventRecorder: start events, keep them alive, let another process adopt them,
finish them (events-and-http.md §2.1, §2.9).

Start: the event is stored running under this recorder as its holder, which takes
its target locks in the same write (a conflict stores nothing; events on apps retry
for ``app_lock_retry`` seconds), then active blocks are checked (a blocked event is
finished at once with the block's error). A heartbeat thread refreshes the events
this recorder holds every ``heartbeat`` seconds; an event not refreshed for
``lock_expiry`` seconds is dead: the next starter meeting its lock expires it and
takes the lock. Finishing stores the log and outcome, which releases the locks, and
publishes ``events.event.finished`` after the write: ``_announce`` is the only place
that publishes. A mutation costs two writes here: the insert and the finish.

Hand-over (deploys: apps opens the event, the provisioner's worker does the work):
the opener calls ``RunningEvent.handing_off()`` around sending the event id; the
worker calls ``adopt(event_id)`` and becomes the holder (heartbeat, log, cancel
checks, finish). See ``shared.events.running`` for the ownership rules.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bson import ObjectId
from bson.errors import InvalidId

from shared.bus import keys
from shared.events.blocks import Block, blocked_message, first_match
from shared.events.bounds import bound_custom_data, bound_log
from shared.events.errors import EventBlocked, EventLocked, EventNotRunning
from shared.events.model import (
    INTERNAL,
    INTERNAL_OWNER,
    PERMISSION,
    EventRecord,
    EventSpec,
    Instance,
    Kind,
    now,
)
from shared.events.pending import OUTAGE, PendingWrites
from shared.events.running import RunningEvent
from shared.events.storage import EventStorage, Outcome
from shared.golang.times import duration, rfc3339, utc

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], None]

_APP_RETRY_POLL = 0.1
# Seconds between retries of writes owed after a database outage.
_PENDING_RETRY = 1.0
# Give up after this many insert/takeover rounds on one lock (each round means the
# lock changed hands under us; in practice one or two happen).
_MAX_ROUNDS = 20


class Recorder(Protocol):
    """What operations need: ``EventRecorder`` and ``shared.testing.FakeRecorder``."""

    def start(self, spec: EventSpec) -> RunningEvent: ...
    def record(self, spec: EventSpec) -> AbstractContextManager[RunningEvent]: ...
    def adopt(self, event_id: str | ObjectId) -> RunningEvent: ...
    def cancel_asked(self, event_id: str | ObjectId) -> bool: ...
    def expire_stale(self) -> int: ...


def locked_message(holder: EventRecord) -> str:
    """tsuru's 409 text, naming the running event that holds the lock."""
    return (
        f'event locked: {holder.target} running "{holder.kind.name}" start by '
        f"{holder.owner.type} {holder.owner.name} at {rfc3339(holder.start_time)}"
    )


class EventRecorder:
    def __init__(
        self,
        storage: EventStorage,
        *,
        publish: Publish | None = None,
        instance: str = "",
        lock_expiry: float = 300.0,
        heartbeat: float = 30.0,
        app_lock_retry: float = 10.0,
        blocks_cache: float = 0.0,
    ) -> None:
        self.storage = storage
        self.publish = publish
        self.instance = instance
        self.lock_expiry = lock_expiry
        self.heartbeat = heartbeat  # 0: no heartbeat thread (fakes)
        self.app_lock_retry = app_lock_retry
        # Seconds the active blocks read are reused (0: read at every start); services
        # pass BLOCKS_CACHE_SECONDS, which the events service's answers wait out.
        self.blocks_cache = blocks_cache
        self._blocks: tuple[float, list[Block]] | None = None  # (read started, blocks)
        # Unique per recorder: the holder name written on the events it keeps alive.
        self.holder = f"{instance or 'recorder'}:{uuid.uuid4().hex[:12]}"
        self._running: dict[ObjectId, RunningEvent] = {}
        self._running_mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Finishes and releases the database refused during an outage (pending.py).
        self._pending = PendingWrites()

    def close(self) -> None:
        """Stop the heartbeat (events still running then expire after lock_expiry)."""
        self._stop.set()

    # -- life cycle -----------------------------------------------------------------

    def start(self, spec: EventSpec) -> RunningEvent:
        if not spec.kind:
            raise ValueError("event kind is mandatory")
        if not spec.target.type:
            raise ValueError("event target type is mandatory")
        owner = INTERNAL_OWNER if spec.internal else spec.owner
        if self._pending:
            self._pending.flush()  # an outage's leftovers must not refuse this event
        retry = self.app_lock_retry if spec.target.type == "app" else 0.0
        deadline = time.monotonic() + retry
        while True:
            event_id, started = ObjectId(), now()
            record = EventRecord(
                id=event_id,
                target=spec.target,
                kind=Kind(INTERNAL if spec.internal else PERMISSION, spec.kind),
                owner=owner,
                start_time=started,
                lock_update_time=started,
                extra_targets=spec.extra_targets,
                start_custom_data=bound_custom_data(spec.custom_data),
                cancelable=spec.cancelable,
                running=True,
                lock=spec.lock,
                allowed=spec.allowed,
                allowed_cancel=spec.allowed_cancel,
                instance=Instance(name=self.instance),
                holder=self.holder,
            )
            try:
                self._insert_locking(record)
                break
            except EventLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(_APP_RETRY_POLL)
            except OUTAGE:
                # The event (and its locks) may have been stored before the database
                # went away: finish it once the database is back.
                self._owe(event_id, partial(self._abandon, event_id))
                raise
        try:
            self._refuse_if_blocked(record, spec)
        except EventBlocked:
            raise
        except OUTAGE:
            self._owe(event_id, partial(self._abandon, event_id))
            raise
        except BaseException:
            self._abandon(event_id)
            raise
        return self._track(RunningEvent(self, record))

    @contextmanager
    def record(self, spec: EventSpec) -> Iterator[RunningEvent]:
        """``start``, run the body, finish; an exception finishes the event with its
        text and propagates."""
        event = self.start(spec)
        try:
            yield event
        except BaseException as exc:
            event.done(error=exc)
            raise
        event.done()

    def adopt(self, event_id: str | ObjectId) -> RunningEvent:
        """Become the holder of a running event another process handed off."""
        try:
            oid = ObjectId(event_id)
        except (InvalidId, TypeError) as exc:
            raise EventNotRunning(f"event {event_id!r} is not running") from exc
        record = self.storage.adopt(oid, self.holder, Instance(name=self.instance), now())
        if record is None:
            raise EventNotRunning(f"event {event_id} is not running")
        return self._track(RunningEvent(self, record, record.pending_log))

    def cancel_asked(self, event_id: str | ObjectId) -> bool:
        """Whether a cancel of a running event was asked, read without holding it: a
        command run for the event's holder stops on it, the holder acknowledges."""
        try:
            oid = ObjectId(event_id)
        except (InvalidId, TypeError):
            return False
        info = self.storage.cancel_info(oid)
        return info is not None and info.asked

    def finish(self, event: RunningEvent, outcome: Outcome) -> bool:
        """Store ``event``'s outcome if this recorder still holds it (RunningEvent.done).

        A database outage keeps the write owed: the heartbeat retries it, so the target
        is free again once the database is back (the error still propagates).
        """
        self.forget(event)
        outcome = replace(
            outcome,
            end_custom_data=bound_custom_data(outcome.end_custom_data),
            log=None if outcome.log is None else bound_log(outcome.log),
        )
        try:
            finished = self._finish(event.id, outcome, holder=self.holder)
        except OUTAGE:
            self._owe(event.id, partial(self._finish, event.id, outcome, holder=self.holder))
            raise
        if finished:
            return True
        log.warning("event %s was no longer held here when done() ran", event.id)
        return False

    def forget(self, event: RunningEvent) -> None:
        with self._running_mutex:
            self._running.pop(event.id, None)

    def expire_stale(self) -> int:
        """Finish running events nobody refreshed for ``lock_expiry`` s, which frees
        their locks (the events worker runs it periodically). Returns how many it
        finished."""
        cutoff = now() - timedelta(seconds=self.lock_expiry)
        finished = 0
        for event_id, last_beat in self.storage.stale_events(cutoff):
            if self._expire(event_id, last_beat):
                finished += 1
        return finished

    # -- internals --------------------------------------------------------------------

    def _owe(self, event_id: ObjectId, write: Callable[[], object]) -> None:
        """Keep a write the database refused; the heartbeat retries it (pending.py)."""
        self._pending.add(event_id, write)
        self._ensure_heartbeat()

    def _abandon(self, event_id: ObjectId) -> None:
        """An event whose start failed midway: finish it (freeing its locks) if stored."""
        self.storage.finish_event(event_id, Outcome(now(), "event start failed", log=None))

    def _refuse_if_blocked(self, record: EventRecord, spec: EventSpec) -> None:
        """A matching active block finishes the event just started with its error
        (stored, announced) and raises ``EventBlocked``. Checked once the locks are
        taken, as tsuru does: a locked target answers 409 whatever the blocks."""
        if spec.target.type == "event-block":
            return  # blocks never block their own removal
        block = first_match(
            self._active_blocks(),
            kind=spec.kind,
            owner_name=record.owner.name,
            target=spec.target,
            custom_data=spec.custom_data,
        )
        if block is None:
            return
        message = blocked_message(spec.kind, spec.target, block)
        self._finish(record.id, Outcome(now(), message, log=None), holder=self.holder)
        raise EventBlocked(message)

    def _active_blocks(self) -> list[Block]:
        if self.blocks_cache <= 0:
            return self.storage.active_blocks()
        cached = self._blocks
        started = time.monotonic()
        if cached is not None and started - cached[0] < self.blocks_cache:
            return cached[1]
        blocks = self.storage.active_blocks()
        if self._blocks is None or self._blocks[0] < started:
            self._blocks = (started, blocks)  # one tuple: readers see it whole
        return blocks

    def _insert_locking(self, record: EventRecord) -> None:
        """Store the running event, which takes its locks; raise EventLocked describing
        the holder met. A holder silent for ``lock_expiry`` is dead: its event expires
        (guarded by the beat seen, so of two racers one expires it) and we try again."""
        for _ in range(_MAX_ROUNDS):
            lock_id = self.storage.insert_event(record)
            if lock_id is None:
                return
            held = self.storage.lock_holder(lock_id)
            if held is None:
                continue  # released between our insert and our read
            if now() - held.lock_update_time < timedelta(seconds=self.lock_expiry):
                raise EventLocked(locked_message(held))
            self._expire(held.id, held.lock_update_time)
        lock_id = record.lock_ids()[0] if record.lock_ids() else str(record.id)
        held = self.storage.lock_holder(lock_id)
        raise EventLocked(locked_message(held or record))

    def _expire(self, event_id: ObjectId, last_beat: datetime) -> bool:
        """Finish a dead event with tsuru's expiry text (its log died with its holder),
        only if its heartbeat is still ``last_beat``."""
        silent = (now() - utc(last_beat)).total_seconds()
        outcome = Outcome(now(), f"event expired, no update for {duration(silent)}", log=None)
        return self._finish(event_id, outcome, last_beat=last_beat)

    def _finish(
        self,
        event_id: ObjectId,
        outcome: Outcome,
        *,
        holder: str | None = None,
        last_beat: datetime | None = None,
    ) -> bool:
        done = self.storage.finish_event(event_id, outcome, holder=holder, last_beat=last_beat)
        if done:
            self._announce(event_id)
        return done

    def _announce(self, event_id: ObjectId) -> None:
        """Publish that an event finished: the one place that does (webhooks follow)."""
        if self.publish is None:
            return
        try:
            self.publish(keys.EVENT_FINISHED, {"id": str(event_id)})
        except Exception:  # the event is stored; losing the notice only delays webhooks
            log.exception("could not publish %s for event %s", keys.EVENT_FINISHED, event_id)

    def _track(self, event: RunningEvent) -> RunningEvent:
        with self._running_mutex:
            self._running[event.id] = event
        self._ensure_heartbeat()
        return event

    def _ensure_heartbeat(self) -> None:
        with self._running_mutex:
            if self.heartbeat > 0 and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(
                    target=self._beat, name="event-heartbeat", daemon=True
                )
                self._thread.start()

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
                events = dict(self._running)
            if not events:
                continue
            try:
                self.beat_once(events)
            except Exception:  # keep beating: a transient database error must not kill it
                log.exception("could not refresh running events")

    def beat_once(self, events: dict[ObjectId, RunningEvent] | None = None) -> None:
        """One heartbeat: refresh what this recorder holds, forget what it lost."""
        if events is None:
            with self._running_mutex:
                events = dict(self._running)
        current = now()
        held = self.storage.beat(list(events), self.holder, current)
        for event_id, event in events.items():
            if event_id not in held:
                log.info("event %s is held elsewhere now (or expired); forgetting it", event_id)
                event.mark_lost()
