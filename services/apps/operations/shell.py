"""``tsuru app-shell`` (apps.md §9.2 "GET /apps/{appname}/shell"): a websocket whose
text frames are the terminal's input and output.

The connection is always upgraded first: tsuru reports every refusal after the
upgrade as one text frame ``Error: <message>\\n`` and a normal close. The shell
itself runs beside a unit (or in a fresh isolated one) in the provisioner, which
this relays to (``Provisioner.shell``: a raw byte channel). The event
``app.run.shell`` does not lock the app; the lines typed are logged in it as
``> <line>``. The server pings every 20 s and drops a client silent for 60 s.
"""

from __future__ import annotations

import codecs
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from services.apps.domain.errors import AppNotFound
from services.apps.operations.deps import Deps, ShellChannel, ShellOptions
from shared.errors import PERMISSION_DENIED, TsubameError
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize

log = logging.getLogger(__name__)

NO_TOKEN = "no token provided or session expired, please login again"
PING_EVERY = 20.0
PONG_TIMEOUT = 60.0
# Typed input kept in the event log, per session (a pasted file is not a log).
MAX_LOGGED_INPUT = 64 * 1024


class Terminal(Protocol):
    """The client's websocket, as the session needs it."""

    def send_text(self, text: str) -> None: ...
    def receive(self) -> str | bytes: ...  # raises on close
    def ping(self, data: bytes = b"") -> None: ...
    def idle(self) -> float: ...  # seconds since the client's last frame (pongs count)
    def close(self, code: int = 1000, reason: str = "") -> None: ...


def refuse(term: Terminal, message: str) -> None:
    try:
        term.send_text(f"Error: {message}\n")
    finally:
        term.close()


def shell(
    deps: Deps,
    identity: Identity | None,
    name: str,
    opts: ShellOptions,
    term: Terminal,
) -> None:
    if identity is None:
        refuse(term, NO_TOKEN)
        return
    app = deps.stores.apps.get(name)
    if app is None:
        refuse(term, AppNotFound(name).message)
        return
    try:
        permit = authorize(identity, "app.run.shell", app.contexts())
    except TsubameError:
        refuse(term, PERMISSION_DENIED)
        return
    try:
        with permit.record(
            deps.recorder,
            target=Target("app", app.name),
            custom_data=[
                {"name": "unit", "value": opts.unit},
                {"name": "isolated", "value": str(opts.isolated).lower()},
            ],
            visible_in=app.contexts(),
            lock=False,
        ) as evt:
            channel = deps.provisioner.shell(app.name, opts)
            _relay(term, channel, evt.log)
    except TsubameError as exc:
        refuse(term, exc.message)
        return
    term.close()


def _relay(term: Terminal, channel: ShellChannel, log_line: Callable[[str], None]) -> None:
    """Copy both ways until either side ends; ping the client meanwhile."""
    done = threading.Event()

    def output() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            while True:
                data = channel.recv()
                if not data:
                    break
                text = decoder.decode(data)
                if text:
                    term.send_text(text)
        except Exception:  # either side went away: the session ends
            log.debug("shell output ended", exc_info=True)
        finally:
            done.set()
            term.close()  # the shell ended: so does the client's websocket

    def keepalive() -> None:
        while not done.wait(PING_EVERY):
            if term.idle() > PONG_TIMEOUT:
                done.set()
                term.close(1001, "no answer to pings")
                return
            try:
                term.ping()
            except Exception:
                done.set()
                return

    threading.Thread(target=output, name="shell-output", daemon=True).start()
    threading.Thread(target=keepalive, name="shell-ping", daemon=True).start()
    logged = 0
    pending = ""
    try:
        while not done.is_set():
            message = term.receive()
            data = message.encode("utf-8") if isinstance(message, str) else message
            if not data:
                continue  # pongs and empty frames count as signs of life only
            channel.send(data)
            if logged < MAX_LOGGED_INPUT:
                pending += data.decode("utf-8", "replace")
                *lines, pending = pending.replace("\r", "\n").split("\n")
                for line in lines:
                    if line:
                        log_line(f"> {line}\n")
                        logged += len(line)
    except Exception:  # the client went away or spoke nonsense: the session ends
        log.debug("shell input ended", exc_info=True)
    finally:
        done.set()
        channel.close()
