"""Forwarding units' output lines to the LogSink, resumable after a crash.

One thread per backend polls the units' ``output.log`` (a stat per unit and tick; a
unit silent for ``QUIET_AFTER`` seconds is looked at once every ``QUIET_INTERVAL``
only, so idle units cost little however many there are) and sends new complete lines
to the sink. The read position (file inode + offset) is
saved in ``reader.json`` after each batch the sink accepted, so a new backend (after
the worker was killed, even with -9) resumes where the old one stopped: nothing is
lost, and at most the last batch is sent twice. Rotation is followed by inode: the
rest of the old file (``output.log.1``) is read before the new one.

Several backends may share a root (two provisioner workers, or a new one while the old
one dies): a unit's lines go to the holder of its ``reader.lock`` only. The backend
that starts a unit takes it at once; the others try for free locks every second, so
when a holder dies (the kernel drops its locks) another one resumes its units.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from services.provisioner.backends.base import LogLine, LogSink
from services.provisioner.backends.process import unitfs
from services.provisioner.backends.process.layout import Layout

log = logging.getLogger(__name__)

MAX_BATCH = 1 << 20  # bytes read per unit and tick
SINK_RETRIES = 3
CLAIM_INTERVAL = 1.0  # seconds between two tries for a unit another backend forwards
QUIET_AFTER = 5.0  # seconds without output after which a unit is looked at less often
QUIET_INTERVAL = 1.0  # seconds between two looks at a quiet unit
READER_LOCK = "reader.lock"


class _Cursor:
    def __init__(self, data: dict[str, object] | None) -> None:
        data = data or {}
        inode = data.get("inode")
        offset = data.get("offset")
        self.inode: int | None = inode if isinstance(inode, int) else None
        self.offset: int = offset if isinstance(offset, int) else 0
        self.failures = 0

    def as_json(self) -> dict[str, object]:
        return {"inode": self.inode, "offset": self.offset}


class LogForwarder:
    def __init__(self, layout: Layout, sink: LogSink, interval: float = 0.2) -> None:
        self.layout = layout
        self.sink = sink
        self.interval = interval
        self._stop = threading.Event()
        self._held: dict[str, int] = {}  # unit -> fd of its reader.lock
        self._next_try: dict[str, float] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._meta: dict[str, tuple[str, str]] = {}
        self._grew: dict[str, float] = {}  # unit -> when its output last grew (or claimed)
        self._looked: dict[str, float] = {}  # unit -> when we last looked at a quiet one
        self._mutex = threading.Lock()
        self._thread = threading.Thread(
            target=self._loop, name="process-log-forwarder", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._mutex:
            for unit in list(self._held):
                self._release(unit)

    def claim(self, unit: str) -> bool:
        """Forward this unit's lines from now on (if no other backend does)."""
        with self._mutex:
            return self._claim(unit)

    def forget(self, unit: str) -> None:
        with self._mutex:
            self._release(unit)
            self._meta.pop(unit, None)
            self._next_try.pop(unit, None)

    def flush(self, unit: str | None = None) -> None:
        """Forward what is there now, from the caller's thread (before a unit goes)."""
        with self._mutex:
            for name in [unit] if unit else list(self._held):
                if name in self._held:
                    self._pump(name)

    # -- internals -----------------------------------------------------------------------

    def _claim(self, unit: str) -> bool:
        if unit in self._held:
            return True
        try:
            fd = os.open(
                self.layout.units / unit / READER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._held[unit] = fd
        self._cursors.pop(unit, None)  # the previous holder moved it on disk
        self._grew[unit] = time.monotonic()
        return True

    def _release(self, unit: str) -> None:
        fd = self._held.pop(unit, None)
        if fd is not None:
            os.close(fd)
        self._cursors.pop(unit, None)
        self._grew.pop(unit, None)
        self._looked.pop(unit, None)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception:  # noqa: BLE001 - the forwarder must outlive one bad unit
                log.exception("forwarding unit logs failed")
            self._stop.wait(self.interval)

    def _round(self) -> None:
        now = time.monotonic()
        with self._mutex:
            # One listing a round; the spec of a unit is looked for only to claim it.
            present = self.layout.unit_names()
            known = set(present)
            for unit in [u for u in self._held if u not in known]:
                self._release(unit)  # removed by someone else
            for unit in present:
                if self._stop.is_set():
                    return
                if unit not in self._held:
                    if self._next_try.get(unit, 0.0) > now:
                        continue
                    if not (self.layout.units / unit / unitfs.SPEC).exists():
                        continue  # being made: looked at again next round
                    self._next_try[unit] = now + CLAIM_INTERVAL
                    if not self._claim(unit):
                        continue
                if now - self._grew.get(unit, now) > QUIET_AFTER:
                    if now - self._looked.get(unit, 0.0) < QUIET_INTERVAL:
                        continue
                    self._looked[unit] = now
                if self._pump(unit):
                    self._grew[unit] = now

    def _unit_meta(self, unit: str, directory: Path) -> tuple[str, str] | None:
        meta = self._meta.get(unit)
        if meta is None:
            spec = unitfs.read_json(str(directory / unitfs.SPEC))
            if spec is None:
                return None
            meta = (str(spec.get("app", "")), str(spec.get("process", "")))
            self._meta[unit] = meta
        return meta

    def _pump(self, unit: str) -> bool:
        """Forward the unit's new lines; False when its output did not grow."""
        directory = self.layout.units / unit
        path = directory / unitfs.OUTPUT
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False
        cursor = self._cursors.get(unit)
        if cursor is None:
            cursor = _Cursor(unitfs.read_json(str(directory / unitfs.READER)))
            self._cursors[unit] = cursor
        meta = self._unit_meta(unit, directory)
        if meta is None:
            return False
        if cursor.inode is not None and cursor.inode != st.st_ino:
            # Rotated since our last read: finish the previous file first.
            old = Path(f"{path}.1")
            with contextlib.suppress(FileNotFoundError):
                old_st = os.stat(old)
                while old_st.st_ino == cursor.inode and cursor.offset < old_st.st_size:
                    before = cursor.offset
                    if not self._read(unit, meta, old, cursor, directory):
                        return True  # the sink failed: again next round
                    if before == cursor.offset:
                        break  # only a partial line is left there
            cursor.inode, cursor.offset = st.st_ino, 0
        if cursor.inode is None:
            # A unit seen for the first time: from the oldest line still kept.
            cursor.inode, cursor.offset = st.st_ino, 0
            with contextlib.suppress(FileNotFoundError):
                cursor.inode = os.stat(f"{path}.1").st_ino
                self._pump(unit)
                return True
        if st.st_size < cursor.offset:
            cursor.offset = 0  # not ours any more (recreated): start over
        if st.st_size <= cursor.offset:
            return False
        self._read(unit, meta, path, cursor, directory)
        return True

    def _read(
        self,
        unit: str,
        meta: tuple[str, str],
        path: Path,
        cursor: _Cursor,
        directory: Path,
    ) -> bool:
        """Send the lines after the cursor; False if the sink failed (we retry later)."""
        with open(path, "rb") as f:
            f.seek(cursor.offset)
            data = f.read(MAX_BATCH)
        end = data.rfind(b"\n")
        if end < 0:
            return True
        chunk = data[: end + 1]
        app, process = meta
        lines = [
            LogLine(
                app=app,
                unit=unit,
                process=process,
                source=process,
                message=text,
                date=datetime.fromtimestamp(when, UTC),
            )
            for when, text in (unitfs.parse_line(raw) for raw in chunk.split(b"\n")[:-1])
        ]
        try:
            for line in lines:
                self.sink(line)
        except Exception:  # noqa: BLE001 - a failing sink must not stop the forwarder
            cursor.failures += 1
            if cursor.failures < SINK_RETRIES:
                log.warning("log sink failed for unit %s; retrying", unit, exc_info=True)
                return False
            log.error("log sink failed %d times for unit %s; lines dropped", cursor.failures, unit)
        cursor.failures = 0
        cursor.offset += len(chunk)
        with contextlib.suppress(FileNotFoundError):
            unitfs.write_json(str(directory / unitfs.READER), cursor.as_json(), 0o600)
        return True
