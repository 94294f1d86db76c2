"""``POST /swap`` (apps.md §9.6): two apps exchange their cnames (and, unless
``cnameOnly``, their addresses). Both apps are locked by the one event."""

from __future__ import annotations

from typing import Any

from services.apps.domain import errors
from services.apps.domain.models import App
from services.apps.operations import commands, sync
from services.apps.operations.deps import Deps
from services.apps.operations.info import app_units
from shared.errors import Invalid, PreconditionFailed, ServerError
from shared.events import ExtraTarget, Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure


def _app(deps: Deps, name: str) -> App:
    app = deps.stores.apps.get(name)
    if app is None:
        raise errors.AppNotFound(name)
    return app


def _live_units(deps: Deps, app: App) -> list[dict[str, Any]]:
    problems: list[str] = []
    units = app_units(deps, app, problems)
    if problems:
        raise ServerError(problems[0])
    return units


def swap(
    deps: Deps, identity: Identity, name1: str, name2: str, force: str | None,
    cname_only: bool, fields: Any,
) -> None:  # fmt: skip
    app1, app2 = _app(deps, name1), _app(deps, name2)
    ensure(identity, "app.update.swap", app2.contexts())
    permit = authorize(identity, "app.update.swap", app1.contexts())
    with permit.record(
        deps.recorder,
        target=Target("app", name1),
        extra_targets=[ExtraTarget(Target("app", name2), lock=True)],
        custom_data=fields,
    ) as evt:
        # tsuru checks compatibility only when force is absent or exactly "false".
        if force is None or force == "false":
            if app1.platform != app2.platform:
                raise PreconditionFailed("platforms don't match")
            if len(_live_units(deps, app1)) != len(_live_units(deps, app2)):
                raise PreconditionFailed("number of units doesn't match")
        if len(app1.routers) != 1 or len(app2.routers) != 1:
            raise Invalid("swapping apps with multiple routers is not supported")
        if app1.routers[0].name != app2.routers[0].name:
            raise Invalid("swapping apps with different routers is not supported")
        if cname_only and not app1.cnames and not app2.cnames:
            raise Invalid("no cnames to swap")
        args = {"other": commands.spec(deps, app2), "cname_only": cname_only}
        sync.command(deps, evt, "swap", app1, args)
        for cname in app1.cnames:
            deps.stores.cnames.transfer(cname, name1, name2)
        for cname in app2.cnames:
            deps.stores.cnames.transfer(cname, name2, name1)
        deps.stores.apps.set_cnames(name1, list(app2.cnames))
        deps.stores.apps.set_cnames(name2, list(app1.cnames))
        if not cname_only:
            # Each now answers at the other's address; swapping back gives both theirs.
            deps.stores.apps.update(name1, {"swapped_with": "" if app1.swapped_with else name2})
            deps.stores.apps.update(name2, {"swapped_with": "" if app2.swapped_with else name1})
