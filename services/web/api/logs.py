"""An app's log page and its follow stream (plain-text lines for the page's script)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Response

from services.web.api.deps import deps
from services.web.api.pages import arg, page
from services.web.api.render import page as render
from services.web.api.security import PREFIX, signed_in
from services.web.domain.session import Session
from services.web.operations import logs as ops
from shared.http import TEXT, Blueprint

bp = Blueprint("web_logs", __name__, url_prefix=PREFIX)

# A follow stream writes a blank line after this much silence, so a browser that
# went away is noticed (the write fails) and the API's stream is closed.
KEEPALIVE_SECONDS = 15.0


def _lines_arg() -> int:
    raw = arg("lines", 8)
    return int(raw) if raw.isdigit() and int(raw) > 0 else 100


def line(entry: dict[str, Any]) -> str:
    text = str(entry.get("Message", "")).rstrip("\n")
    return f"{entry.get('Date', '')} [{entry.get('Source', '')}][{entry.get('Unit', '')}]: {text}\n"


@bp.route("/apps/<app>/log", methods=["GET"])
@page("The app's last log lines, with filters and a follow button")
@signed_in
def log_page(session: Session, app: str) -> Response:
    lines, source, unit = _lines_arg(), arg("source", 128), arg("unit", 256)
    entries = ops.recent(deps(), session, app, lines, source, unit)
    return render("log.html", app=app, entries=entries, lines=lines, source=source, unit=unit)


@bp.route("/apps/<app>/log/follow", methods=["GET"])
@page("New log lines as they come (text/plain, one per line), for a while")
@bp.output(401, TEXT, description="Not signed in")
@signed_in
def log_follow(session: Session, app: str) -> Response:
    source, unit = arg("source", 128), arg("unit", 256)
    stream = ops.follow(deps(), session, app, source, unit)
    entries = stream.__enter__()  # the API's refusal (404, 403) is shown as an error
    resp = Response(
        _relay(entries, deps().config.follow_seconds),
        mimetype="text/plain",
        headers={"X-Accel-Buffering": "no"},
    )
    # Closing the API's stream (time is up, or the browser left) ends the reader too.
    resp.call_on_close(lambda: stream.__exit__(None, None, None))
    return resp


_END = object()


def _relay(entries: Iterator[dict[str, Any]], seconds: float) -> Iterator[str]:
    """Lines of ``entries`` as they come, a blank line on silence, for ``seconds``.

    The API's stream is read by its own (green) thread so silence can be noticed;
    when the browser leaves or the time is up, the API's stream is closed.
    """
    found: queue.Queue[Any] = queue.Queue(maxsize=1000)

    def read() -> None:
        try:
            for entry in entries:
                found.put(line(entry))
        except Exception as exc:  # noqa: BLE001 - the page shows why the follow ended
            found.put(f"(the log stream ended: {exc})\n")
        finally:
            found.put(_END)

    reader = threading.Thread(target=read, name="log-follow", daemon=True)
    reader.start()
    # At once: the answer's head leaves with it, so the page knows the follow is on
    # (the API's stream is open: every line stored from now on comes).
    yield "\n"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            item = found.get(timeout=KEEPALIVE_SECONDS)
        except queue.Empty:
            yield "\n"
            continue
        if item is _END:
            return
        yield item
