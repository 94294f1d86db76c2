"""Sending a provisioner command and relaying its replies (docs/runtime.md).

The operation's event is opened here (permission, lock) and handed over to the
provisioner's worker around the send only; the worker adopts it, writes every
progress line (they come back as ``{"message"}`` replies, which the client's stream
gets as they arrive) and finishes it. The last reply says how it ended: an ``error``
in tsuru's words, and the ``result``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from services.apps.domain.deploy_errors import CommandFailed
from services.apps.domain.models import App
from services.apps.domain.spec import app_spec
from services.apps.operations.deps import Deps, Reply
from shared.events import RunningEvent

Write = Callable[[str], None]

NO_FINAL = "the provisioner ended the command without saying how it went"


def spec(deps: Deps, app: App) -> dict[str, Any]:
    """The AppSpec of ``app`` as every command carries it (its token included)."""
    return app_spec(app, deps.auth.app_token(app.name))


def relay(replies: Iterator[Reply], write: Write) -> dict[str, Any]:
    """Write each progress message; return the final result, or raise the command's
    error (``CommandFailed``, with the status the provisioner gave, 500 otherwise)."""
    for reply in replies:
        if reply.get("final") is True:
            error = str(reply.get("error") or "")
            if error:
                status = reply.get("status")
                raise CommandFailed(error, status if isinstance(status, int) else 500)
            result = reply.get("result")
            return result if isinstance(result, dict) else {}
        message = reply.get("message")
        if isinstance(message, str) and message:
            write(message)
    raise CommandFailed(NO_FINAL)


def run(
    deps: Deps,
    evt: RunningEvent,
    command: str,
    app: App,
    args: dict[str, Any],
    write: Write,
    *,
    app_spec_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Hand ``evt`` to the provisioner with ``command`` and relay its replies."""
    body = app_spec_ if app_spec_ is not None else spec(deps, app)
    with evt.handing_off() as event_id:
        replies = deps.provisioner.command(command, body, args, event=event_id)
    return relay(replies, write)
