"""The plain-text stream of deploys and builds (apps.md §6.2, events-and-http.md §1.7).

tsuru answers ``POST /apps/{appname}/deploy`` and ``/build`` with
``Content-Type: text``: the raw build and deploy output as it comes, a
``please wait...`` line after each 30 s of silence, and (written by the operation)
a final ``OK``. An error before any output is an ordinary text error with its
status and the headers set so far (``X-Tsuru-Eventid``); after output it is written
as one more text line (Go's ``fmt.Fprintln(w, err)``) and the status stays 200.

``text_stream(operation)`` runs ``operation(writer)`` in a background thread (a
greenlet under gevent) and answers as soon as it wrote, finished, or stayed silent
for ``keepalive`` seconds. The operation runs outside the request context: read
every input before. The client going away does not stop it (tsuru neither).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Iterator

from flask import Response

from shared.errors import TsubameError
from shared.http.outage import UNEXPECTED, outage_message
from shared.http.responses import text_error

log = logging.getLogger(__name__)

MIMETYPE = "text"
KEEPALIVE_TEXT = "please wait..."
_DONE = object()


class TextWriter:
    """What the operation writes to; ``headers`` are sent with the response (set
    them before the first write)."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self.headers: dict[str, str] = {}
        self.written = False

    def write(self, text: str) -> None:
        if not text:
            return
        self.written = True
        self._sink(text)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TsubameError):
        return exc.message
    outage = outage_message(exc)
    if outage is not None:
        return outage
    log.error("text stream failed", exc_info=exc)
    return UNEXPECTED


def text_stream(operation: Callable[[TextWriter], None], *, keepalive: float = 30.0) -> Response:
    items: queue.Queue[object] = queue.Queue()
    first = threading.Event()

    def sink(chunk: str) -> None:
        items.put(chunk)
        first.set()

    writer = TextWriter(sink)

    def run() -> None:
        try:
            operation(writer)
        except BaseException as exc:  # reported to the client, never swallowed
            items.put(_Failure(exc))
        finally:
            items.put(_DONE)
            first.set()

    # The caller's context variables go along (the permission checks noted for
    # the architecture tests, anything a view set).
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), name="text-stream", daemon=True).start()
    first.wait(keepalive)
    if not writer.written and first.is_set():
        # Finished without output: answer in the request, so errors keep their status.
        item = items.get()
        if isinstance(item, _Failure):
            exc = item.exc
            if isinstance(exc, TsubameError):
                return text_error(exc.message, exc.status, writer.headers)
            raise exc
        return _response(iter(()), writer.headers)

    # Bytes: with direct passthrough the WSGI server writes the items as they are.
    def body() -> Iterator[bytes]:
        last = ""
        while True:
            try:
                item = items.get(timeout=keepalive)
            except queue.Empty:
                text = ("" if last.endswith("\n") or not last else "\n") + KEEPALIVE_TEXT + "\n"
                last = text
                yield text.encode()
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                text = _error_text(item.exc) + "\n"
            else:
                text = str(item)
            last = text
            yield text.encode()

    # Silent for a whole keep-alive interval: the answer starts with the first ping.
    return _response(_pinged_first(body(), writer.written), writer.headers)


def _pinged_first(body: Iterator[bytes], written: bool) -> Iterator[bytes]:
    if not written:
        yield (KEEPALIVE_TEXT + "\n").encode()
    yield from body


def _response(body: Iterator[bytes], headers: dict[str, str]) -> Response:
    resp = Response(body, status=200, content_type=MIMETYPE, direct_passthrough=True)
    for key, value in headers.items():
        resp.headers[key] = value
    return resp
