"""``GET /logs`` (apps.md §7.3): tsuru's websocket intake of node log forwarders.

Only tsuru's internal token (an app token of the reserved app ``tsr``) may send: it
streams JSON log entries, each stored in its app's log. Tsubame issues no such token
(its provisioner forwards unit logs over the bus), so every caller is answered as
tsuru answers a token of another app, or no token.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from services.apps.domain.models import LogLine
from services.apps.domain.rules import RESERVED
from services.apps.operations import applog
from services.apps.operations.deps import Deps
from shared.golang.gojson import marshal
from shared.identity import Identity


class Socket(Protocol):
    def receive(self) -> str | bytes: ...
    def send_text(self, text: str) -> None: ...
    def close(self, code: int = 1000, reason: str = "") -> None: ...


def _entry(raw: str | bytes) -> tuple[str, LogLine] | None:
    try:
        entry: Any = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    date, app, message = entry.get("Date"), entry.get("AppName"), entry.get("Message")
    if not (isinstance(date, str) and date and isinstance(app, str) and app
            and isinstance(message, str) and message):  # fmt: skip
        return None  # tsuru skips entries without Date, AppName or Message
    line = LogLine(date, message, str(entry.get("Source") or ""), str(entry.get("Unit") or ""))
    return app, line


def intake(deps: Deps, identity: Identity | None, ws: Socket, closed: type[Exception]) -> None:
    if identity is None:
        _finish(ws, "wslogs: no token")
        return
    name = identity.name if identity.kind == "app" else ""
    if identity.kind != "app" or name not in RESERVED:
        _finish(ws, f'wslogs: invalid token app name: "{name}"')
        return
    error = ""
    try:
        while True:
            got = _entry(ws.receive())
            if got is not None and deps.stores.apps.exists(got[0]):
                applog.store(deps, got[0], [got[1]])
    except closed:
        pass
    except Exception as exc:  # reported to the forwarder, as tsuru does
        error = str(exc)
    _finish(ws, error)


def _finish(ws: Socket, error: str) -> None:
    try:
        ws.send_text(marshal({"error": error}))
        ws.close()
    except Exception:  # the peer may be gone already
        return
