"""``RunningEvent``: the handle an operation holds while its event runs.

Ownership: a running event has one holder, the recorder (process) that keeps its
heartbeat. The holder logs, checks for cancellation, attaches data and finishes it.
It may hand the event over to another process (``handing_off``): that process
``adopt``s it and becomes the holder; from then on the first process's ``done`` does
nothing and its ``log`` refuses. A holder that lost its event (adopted elsewhere, or
expired after a long pause) learns it on its next heartbeat or guarded write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from shared.events.bounds import bound_custom_data
from shared.events.errors import EventNotRunning
from shared.events.model import CANCELED_BY_USER, EventRecord, LogEntry, now
from shared.events.storage import Outcome

if TYPE_CHECKING:
    from shared.events.recorder import EventRecorder

log = logging.getLogger(__name__)

RUNNING, HANDED_OFF, FINISHED, LOST = "running", "handed off", "finished", "lost"


class LogSink(Protocol):
    """Anything written to as the event logs: the client's stream, a command reply."""

    def write(self, message: str) -> object: ...


class RunningEvent:
    def __init__(
        self, recorder: EventRecorder, record: EventRecord, entries: Sequence[LogEntry] = ()
    ) -> None:
        self._recorder = recorder
        self._storage = recorder.storage
        self._holder = recorder.holder
        self.record = record  # as started or adopted
        self.id = record.id
        self.target = record.target
        self.kind = record.kind.name
        self._entries = list(entries)
        self._sinks: list[LogSink] = []
        self._mutex = threading.Lock()
        self._state = RUNNING
        self._canceled = False

    @property
    def unique_id(self) -> str:
        return str(self.id)

    @property
    def finished(self) -> bool:
        return self._state == FINISHED

    @property
    def lost(self) -> bool:
        """Another process holds it now, or it expired: this handle can do nothing."""
        return self._state == LOST

    # -- log ---------------------------------------------------------------------

    def attach(self, sink: LogSink) -> None:
        """Also write every later log entry to ``sink`` (e.g. the client's stream)."""
        with self._mutex:
            self._sinks.append(sink)

    def detach(self, sink: LogSink) -> None:
        with self._mutex:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def log(self, message: str) -> None:
        """Append one entry, kept as given (end it with ``\\n`` as tsuru's lines do).

        Entries are stored when the event finishes (tsuru shows no log for a running
        event); each is also written to the attached sinks at once. A sink that fails
        is detached: the client going away must not fail the operation.
        """
        with self._mutex:
            if self._state == HANDED_OFF:
                raise RuntimeError(f"event {self.id} was handed off: log where it was adopted")
            self._entries.append(LogEntry(now(), message))
            sinks = list(self._sinks)
        for sink in sinks:
            try:
                sink.write(message)
            except Exception:
                log.warning("event %s: a log sink failed; detaching it", self.id, exc_info=True)
                self.detach(sink)

    def write(self, data: str | bytes) -> int:
        """File-like alias of ``log`` (streams can tee into the event)."""
        self.log(data.decode("utf-8", "replace") if isinstance(data, bytes) else data)
        return len(data)

    # -- while running ------------------------------------------------------------

    def _refused(self) -> EventNotRunning:
        self.mark_lost()
        return EventNotRunning(f"event {self.id} is no longer held by this process")

    def set_other_data(self, data: Any) -> None:
        if not self._storage.set_other_data(self.id, self._holder, bound_custom_data(data)):
            raise self._refused()

    def cancel_requested(self) -> bool:
        """True once someone asked to cancel (and acknowledges it, §2.5). Poll it about
        once a second. Raises EventNotRunning when this process lost the event."""
        if self._canceled:
            return True
        info = self._storage.cancel_info(self.id)
        if info is None or not info.asked:
            return False
        if not self._storage.ack_cancel(self.id, self._holder, now()):
            raise self._refused()
        self._canceled = True
        return True

    @contextmanager
    def handing_off(self) -> Iterator[str]:
        """Give the event to the process the yielded id is sent to::

            with evt.handing_off() as event_id:
                replies = bus.send_command("provisioner", {..., "event": event_id})

        The log so far travels with the event; this process keeps the heartbeat until
        the other one ``adopt``s it, then forgets it. If the body raises (the command
        never left), the event is taken back and finishes here as usual. Put only
        the sending in the body.
        """
        with self._mutex:
            entries = list(self._entries)
            self._state = HANDED_OFF
        try:
            stashed = self._storage.stash_log(self.id, self._holder, entries)
        except BaseException:
            self._take_back()  # the database failed: nothing left this process
            raise
        if not stashed:
            raise self._refused()
        try:
            yield self.unique_id
        except BaseException:
            self._take_back()
            raise

    def _take_back(self) -> None:
        with self._mutex:
            if self._state == HANDED_OFF:
                self._state = RUNNING

    # -- end ------------------------------------------------------------------------

    def mark_lost(self) -> None:
        with self._mutex:
            if self._state in (RUNNING, HANDED_OFF):
                self._state = LOST
        self._recorder.forget(self)

    def done(self, error: str | BaseException | None = None, end_custom_data: Any = None) -> None:
        """Finish the event with ``error``'s text (empty: success) and release its
        locks. Only the first call counts; after a hand-off, or once the event is lost,
        it does nothing."""
        with self._mutex:
            if self._state != RUNNING:
                return
            self._state = FINISHED
            entries = tuple(self._entries)
        message = str(error) if error is not None else ""
        if not message and self._canceled:
            message = CANCELED_BY_USER
        self._recorder.finish(self, Outcome(now(), message, end_custom_data, entries))
