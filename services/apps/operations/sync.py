"""Provisioner commands whose answer is not streamed to the client (routes rebuilt
after a cname, router or certificate change): sent with no event (apps keeps and
finishes its own), progress written to that event's log."""

from __future__ import annotations

from typing import Any

from services.apps.domain.models import App
from services.apps.operations import commands
from services.apps.operations.deps import Deps
from shared.events import RunningEvent


def command(
    deps: Deps, evt: RunningEvent | None, name: str, app: App, args: dict[str, Any]
) -> dict[str, Any]:
    replies = deps.provisioner.command(name, commands.spec(deps, app), args, event="")
    return commands.relay(replies, evt.log if evt is not None else (lambda _m: None))


def rebuild_routes(
    deps: Deps, evt: RunningEvent | None, name: str, *, dry: bool = False
) -> dict[str, Any]:
    """Routes rebuilt from the app as stored now (its cnames, routers)."""
    app = deps.stores.apps.get(name)
    if app is None:
        return {}
    args: dict[str, Any] = {"dry": True} if dry else {}
    return command(deps, evt, "routes.rebuild", app, args)
