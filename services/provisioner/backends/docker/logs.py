"""Unit output to the LogSink: one follower thread per unit container.

A follower reads the container's log stream (``follow``, with timestamps). The stream
ends when the container stops; the follower waits for it to run again (a crash restart)
and asks for the lines since the last one it passed on. Engines print timestamps at
different precisions (podman: whole seconds, Docker: nanoseconds), so it resumes from the
start of that second and skips the lines of it already seen. Its position (container,
second, lines of that second) is saved by the unit's owner (store.py), so the next owner
resumes where this one stopped: a line is sent once, unless its sender died between
sending it and saving the position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import docker.errors

from services.provisioner.backends.base import LogLine, LogSink
from services.provisioner.backends.docker.errors import API_ERRORS

log = logging.getLogger(__name__)
_MAX_LINE = 64 << 10  # longer lines are cut (a unit must not grow our memory)


def parse_timestamp(text: str) -> datetime | None:
    """RFC 3339 with 0 to 9 fraction digits (Go's RFC3339Nano) to an aware datetime."""
    if not text.endswith("Z") or "T" not in text:
        return None
    body = text[:-1]
    whole, _, fraction = body.partition(".")
    try:
        stamp = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    if fraction:
        if not fraction.isdigit():
            return None
        stamp = stamp.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return stamp


class LogFollower:
    def __init__(
        self,
        client: Callable[[], Any],  # -> docker.DockerClient without read timeout
        container: str,
        meta: tuple[str, str, str],  # (app, unit id, process)
        sink: LogSink,
        position: dict[str, Any] | None,  # a saved position() of this unit, if any
        running: Callable[[], bool | None],  # True / False / None when the container is gone
    ) -> None:
        self._client = client
        self._container = container
        self._app, self._unit, self._process = meta
        self._sink = sink
        self._running = running
        self._last_second: int | None = None
        self._seen_in_second = 0
        self._position_lock = threading.Lock()
        if position and position.get("container") == container:
            self._last_second = int(position.get("second") or 0) or None
            self._seen_in_second = int(position.get("count") or 0)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._loop, name=f"logs-{self._unit}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def position(self) -> dict[str, Any]:
        with self._position_lock:
            return {
                "container": self._container,
                "second": self._last_second or 0,
                "count": self._seen_in_second,
            }

    def wake(self) -> None:
        """The container runs again: resume now rather than at the next look."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a half-read HTTP response may raise anything
                pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow_once()
            except (docker.errors.NotFound, docker.errors.NullResource):
                return
            except API_ERRORS as exc:
                log.debug("log stream of %s broke: %s", self._unit, exc)
            if self._stop.is_set():
                return
            # Stream over: the container stopped (or the node is unreachable).
            while not self._stop.is_set():
                try:
                    running = self._running()
                except Exception:  # a node that does not answer: look again later
                    running = False
                if running is None:
                    return
                if running:
                    break
                self._wake.wait(1.0)
                self._wake.clear()

    def _follow_once(self) -> None:
        kwargs: dict[str, Any] = {"stream": True, "follow": True, "timestamps": True}
        if self._last_second is not None:
            kwargs["since"] = self._last_second
        self._stream = self._client().api.logs(self._container, **kwargs)
        skip = self._seen_in_second if self._last_second is not None else 0
        second = self._last_second
        pending = b""
        try:
            for chunk in self._stream:
                pending += chunk
                while b"\n" in pending:
                    raw, pending = pending.split(b"\n", 1)
                    if skip and self._second_of(raw) == second:
                        skip -= 1
                        continue
                    skip = 0
                    self._emit(raw)
                if len(pending) > _MAX_LINE:
                    self._emit(pending[:_MAX_LINE])
                    pending = b""
            if pending:
                self._emit(pending)
        finally:
            stream, self._stream = self._stream, None
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # see stop()
                    pass

    @staticmethod
    def _second_of(raw: bytes) -> int | None:
        stamp = parse_timestamp(raw.split(b" ", 1)[0].decode("ascii", "replace"))
        return int(stamp.timestamp()) if stamp else None

    def _emit(self, raw: bytes) -> None:
        head, _, body = raw.partition(b" ")
        stamp = parse_timestamp(head.decode("ascii", "replace"))
        if stamp is None:
            stamp, body = datetime.now(UTC), raw
        message = body[:_MAX_LINE].decode("utf-8", "replace").rstrip("\r")
        line = LogLine(
            app=self._app,
            unit=self._unit,
            process=self._process,
            source=self._process,
            message=message,
            date=stamp,
        )
        try:
            self._sink(line)
        except Exception:  # a failing sink must not kill the follower
            log.exception("log sink failed for unit %s", self._unit)
        # Counted once passed on: a position saved now never skips an unsent line.
        second = int(stamp.timestamp())
        with self._position_lock:
            if second == self._last_second:
                self._seen_in_second += 1
            else:
                self._last_second, self._seen_in_second = second, 1
