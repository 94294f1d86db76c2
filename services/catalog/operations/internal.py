"""What other contexts ask the catalog, and its reactions to their messages
(docs/runtime.md, docs/contracts.md "Team usage")."""

from __future__ import annotations

import logging

from services.catalog.domain import errors
from services.catalog.domain.models import AppUnit, AppView
from services.catalog.operations import lookup, units
from services.catalog.operations.binds import unbind_app
from services.catalog.operations.deps import Deps
from shared.events import INTERNAL_OWNER, Allowed, EventSpec, Target

log = logging.getLogger(__name__)


def team_usage(deps: Deps, team: str) -> list[str]:
    return deps.stores.instances.using_team(team)


def binds_of(deps: Deps, app: str) -> list[dict[str, str]]:
    found = deps.stores.instances.bound_to(app)
    return [
        {"service": i.service_name, "instance": i.name, "plan": i.plan_name}
        for i in sorted(found, key=lambda i: (i.service_name, i.name))
    ]


def service_names(deps: Deps) -> list[str]:
    return deps.stores.services.names() + [s.name for s in lookup.brokered_services(deps)]


def app_removed(deps: Deps, app: str) -> None:
    """Unbind a removed app from every instance (tsuru's app removal force-unbinds):
    units, the service API's bind, the instance's ``apps``. Its env vars went with it.
    Idempotent: a redelivered message finds nothing left to unbind."""
    bound = deps.stores.instances.bound_to(app)
    if not bound:
        return
    gone = AppView(name=app, teams=(), team_owner="", pool="")
    spec = EventSpec(
        target=Target("app", app),
        kind="unbind-removed-app",
        owner=INTERNAL_OWNER,
        allowed=Allowed("app.read.events", (("app", app),)),
        lock=False,  # the app's removal may still hold its lock
        internal=True,
    )
    with deps.recorder.record(spec) as evt:
        failures = []
        for inst in bound:
            try:
                unbind_app(deps, evt, inst, gone, restart=False, force=True, envs=False)
                evt.log(f'Instance "{inst.key}" is not bound to the removed app "{app}" anymore.\n')
            except errors.AppNotBound:
                continue
            except Exception as exc:
                log.exception("unbinding removed app %s from %s", app, inst.key)
                failures.append(f"{inst.key}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))


def units_changed(deps: Deps, app: str, added: list[AppUnit], removed: list[AppUnit]) -> None:
    """Bind the units a provisioner added, unbind those it removed, for every instance
    bound to the app (``provisioner.units.changed``)."""
    if not deps.stores.instances.bound_to(app):
        return
    view = deps.apps.get(app)
    if view is None:
        view = AppView(name=app, teams=(), team_owner="", pool="")
    units.sync_with_event(deps, view, added=added, removed=removed)
