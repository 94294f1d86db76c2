"""What other contexts ask the catalog, and its reactions to their messages
(docs/runtime.md, docs/contracts.md "Team usage")."""

from __future__ import annotations

import logging

from services.catalog.domain import errors
from services.catalog.domain.models import AppUnit, AppView, BoundUnit, ServiceInstance
from services.catalog.operations import lookup, units
from services.catalog.operations.deps import CallContext, Deps
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
    its units and the service API's bind are undone where the API lets them be (errors
    are logged, never block), and the instance forgets the app. Its env vars went with
    it. Idempotent: a redelivered message finds nothing left to unbind."""
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
        for inst in bound:
            for problem in _forget(deps, inst, gone):
                evt.log(f"{inst.key}: {problem} (ignored: the app is gone)\n")
            evt.log(f'Instance "{inst.key}" is not bound to the removed app "{app}" anymore.\n')


def _forget(deps: Deps, inst: ServiceInstance, app: AppView) -> list[str]:
    problems: list[str] = []
    try:
        client, ctx = lookup.instance_client(deps, inst)
    except Exception as exc:  # the service itself is gone or misconfigured
        client, ctx = None, None
        problems.append(str(exc))
    stores = deps.stores.instances
    for unit in units.recorded_units(inst, app.name):
        if client is not None and ctx is not None:
            try:
                client.unbind_unit(inst, app, unit, CallContext(pool=ctx.pool))
            except Exception as exc:
                problems.append(str(exc))
        stores.remove_unit(inst.service_name, inst.name, BoundUnit(app.name, unit.id, unit.ip))
    if client is not None and ctx is not None:
        try:
            data = client.unbind_app(inst, app, ctx)
            if data is not None:
                stores.set_broker_data(inst.service_name, inst.name, data)
        except errors.InstanceNotFoundInApi:
            pass
        except Exception as exc:
            problems.append(str(exc))
    stores.remove_app(inst.service_name, inst.name, app.name)
    for problem in problems:
        log.warning("unbinding removed app %s from %s: %s", app.name, inst.key, problem)
    return problems


def units_changed(deps: Deps, app: str, added: list[AppUnit], removed: list[AppUnit]) -> None:
    """Bind the units a provisioner added, unbind those it removed, for every instance
    bound to the app (``provisioner.units.changed``)."""
    if not deps.stores.instances.bound_to(app):
        return
    view = deps.apps.get(app)
    if view is None:
        view = AppView(name=app, teams=(), team_owner="", pool="")
    units.sync_with_event(deps, view, added=added, removed=removed)
