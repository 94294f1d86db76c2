"""Binds and unbinds cut short by a dead process (catalog.md §c.4; STYLE: a failure
halfway through a multi-step operation rolls back or is resumed).

Each bind or unbind writes a ``PendingOp`` on the instance before its first step and
removes it after its last (or after its undo). One left behind once its event stopped
running was cut short: whichever step it reached, the recovery takes the app off the
instance for good (a bind rolled back, an unbind finished): the units unbound, the
service API's bind undone, the app's env vars from the instance removed, the app out of
``apps``. Every step tolerates what is already undone, so a recovery cut short in turn
is simply run again.
"""

from __future__ import annotations

import logging

from services.catalog.domain import errors
from services.catalog.domain.models import AppView, PendingOp, ServiceInstance
from services.catalog.operations import lookup, units
from services.catalog.operations.deps import CallContext, Deps
from shared.events import INTERNAL_OWNER, Allowed, EventSpec, Target

log = logging.getLogger(__name__)


def recover(deps: Deps) -> int:
    """Finish every pending operation whose event no longer runs; returns how many."""
    try:
        deps.recorder.expire_stale()  # a dead holder's event ends once its lock expired
    except Exception:
        log.exception("recovery: could not expire stale events")
    done = 0
    for inst in deps.stores.instances.with_pending():
        for op in inst.pending:
            if deps.events.running(op.event):
                continue
            try:
                _unbind_for_good(deps, inst, op)
            except Exception:
                log.exception("recovery of %s %s on %s failed; next round", op.op, op.app, inst.key)
                continue
            deps.stores.instances.remove_pending(inst.service_name, inst.name, op.event)
            done += 1
    return done


def _unbind_for_good(deps: Deps, inst: ServiceInstance, op: PendingOp) -> None:
    spec = EventSpec(
        target=Target("app", op.app),
        kind="bind-recovery",
        owner=INTERNAL_OWNER,
        allowed=Allowed("app.read.events", (("app", op.app),)),
        custom_data={"instance": inst.key, "op": op.op, "event": op.event},
        lock=False,
        internal=True,
    )
    with deps.recorder.record(spec) as evt:
        current = lookup.instance(deps, inst.service_name, inst.name)
        app = deps.apps.get(op.app) or AppView(op.app, (), "", "")
        deps.stores.instances.remove_app(inst.service_name, inst.name, op.app)
        client, ctx = lookup.instance_client(deps, current)
        if not lookup.service(deps, inst.service_name).disable_bind_unit:
            units.unbind_units(deps, current, app, client, CallContext(pool=ctx.pool))
        broker_binds = current.broker_data.binds if current.broker_data else None
        if broker_binds is None or op.app in broker_binds:
            try:
                data = client.unbind_app(current, app, ctx)
            except errors.InstanceNotFoundInApi:
                data = None  # never bound there, or already undone
            if data is not None:
                deps.stores.instances.set_broker_data(inst.service_name, inst.name, data)
        for message in deps.apps.unset_envs(op.app, inst.service_name, inst.name, op.restart):
            evt.log(message)
        evt.log(f'{op.op} of "{inst.key}" to "{op.app}" cut short: the app is not bound to it.\n')
