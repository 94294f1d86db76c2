"""The ``application/x-json-stream`` writer (events-and-http.md §1.7.1).

``stream(operation)`` runs ``operation(writer)`` in a background thread (a greenlet
under gunicorn's gevent workers). An error raised before anything was written
becomes an ordinary text error with its status; after the first write the status
200 is already sent, so the error becomes a final
``{"Message":"","Timestamp":...,"Error":"..."}`` line. A bare ``\\n`` is written
after ``keepalive`` seconds of silence; clients ignore empty lines.

The operation runs outside the request context: read every input before.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from flask import Response

from shared.errors import TsubameError
from shared.http.responses import dumps

MIMETYPE = "application/x-json-stream"
_DONE = object()


def timestamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond * 1000:09d}Z"


def line(message: str, error: str = "") -> str:
    obj = {"Message": message, "Timestamp": timestamp()}
    if error:
        obj["Error"] = error
    return dumps(obj) + "\n"


class StreamWriter:
    """What an operation writes to; each ``write`` is one JSON line."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self.written = False

    def write(self, message: str) -> None:
        self.written = True
        self._sink(line(message))


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def stream(
    operation: Callable[[StreamWriter], None],
    *,
    keepalive: float = 30.0,
    status: int = 200,
    eager: bool = False,
) -> Response:
    """``eager``: the status is sent before the operation runs (tsuru's node add and
    autoscale run write it first), so every failure is an ``Error`` line."""
    items: queue.Queue[object] = queue.Queue()
    first = threading.Event()

    def sink(chunk: str) -> None:
        items.put(chunk)
        first.set()

    writer = StreamWriter(sink)

    def run() -> None:
        try:
            operation(writer)
        except BaseException as exc:  # reported to the client, never swallowed
            items.put(_Failure(exc))
        finally:
            items.put(_DONE)
            first.set()

    # The operation sees the request's context variables (the permission checks noted
    # by shared.permissions.recording, for one).
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), name="x-json-stream", daemon=True).start()
    if not eager:
        first.wait()
    if not eager and not writer.written:
        # Nothing written yet: finish in the request, so errors keep their status.
        item = items.get()
        if isinstance(item, _Failure):
            raise item.exc
        return Response(b"", status=status, mimetype=MIMETYPE)

    # Bytes: a WSGI server refuses str chunks of a passed-through body.
    def body() -> Iterator[bytes]:
        while True:
            try:
                item = items.get(timeout=keepalive)
            except queue.Empty:
                yield b"\n"
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                exc = item.exc
                msg = str(exc) if isinstance(exc, TsubameError) else (str(exc) or repr(exc))
                yield line("", error=msg).encode()
                continue
            yield str(item).encode()

    return Response(body(), status=status, mimetype=MIMETYPE, direct_passthrough=True)
