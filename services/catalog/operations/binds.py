"""Bind and unbind an instance to an app (catalog.md §3, §c.4, §c.5).

Both are pipelines (``shared.pipeline``): when a step fails, the done ones are undone
in reverse order, so neither the service API, the instance nor the app is left
half-bound. The app's env vars and restart are the apps context's
(docs/runtime.md "Service bindings"); what it streams is logged to the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from services.catalog.domain import errors
from services.catalog.domain.models import AppView, PendingOp, ServiceInstance
from services.catalog.domain.rules import app_contexts, instance_bind_contexts, service_admin
from services.catalog.operations import lookup, units
from services.catalog.operations.deps import CallContext, Deps, ServiceClient
from services.catalog.operations.instances import Sink, call_context, target
from shared.errors import TsubameError
from shared.events import ExtraTarget, RunningEvent, Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure
from shared.pipeline import Action, Backward, Forward, Pipeline

log = logging.getLogger(__name__)

SERVICES_VAR = "TSURU_SERVICES"


class BindFailed(TsubameError):
    """A failed bind, its text completed with the instance's status (tsuru); the
    status code is the cause's."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def app_view(deps: Deps, name: str) -> AppView:
    app = deps.apps.get(name)
    if app is None:
        raise errors.AppNotFound(name)
    return app


def _check_pool(deps: Deps, app: AppView, service: str) -> None:
    """The app's pool must offer the service (its ``service`` constraint)."""
    names = deps.stores.services.names() + [s.name for s in lookup.brokered_services(deps)]
    allowed = deps.pools.allowed_services(app.pool, names)
    if allowed is None:
        return  # no such pool known to the provisioner: no constraint to apply
    if not allowed:
        raise errors.PoolHasNoService()
    if service not in allowed:
        raise errors.ServiceNotInPool(service, app.pool, allowed)


@dataclass
class BindArgs:
    instance: ServiceInstance
    app: AppView
    client: ServiceClient
    ctx: CallContext
    evt: RunningEvent
    params: dict[str, Any]
    restart: bool
    force: bool = False
    skip_units: bool = False  # the service has disable_bind_unit


def _relay(evt: RunningEvent, lines: Any) -> None:
    for message in lines:
        evt.log(message)


# -- bind ----------------------------------------------------------------------------


def bind(
    deps: Deps,
    identity: Identity,
    service_name: str,
    instance_name: str,
    app_name: str,
    *,
    params: dict[str, Any],
    restart: bool,
    fields: Any,
    writer: Callable[[str], None],
) -> None:
    inst = lookup.instance(deps, service_name, instance_name)
    app = app_view(deps, app_name)
    ensure(identity, "service-instance.update.bind", instance_bind_contexts(inst))
    app_ctxs = app_contexts(app.teams, app.name, app.pool)
    permit = authorize(identity, "app.update.bind", app_ctxs)
    _check_pool(deps, app, service_name)
    svc = lookup.service(deps, service_name)
    # bind-app tells the service API about the app's pool and its cluster.
    app = replace(app, pool_info=deps.pools.get(app.pool) if app.pool else None)
    with permit.record(
        deps.recorder,
        target=Target("app", app_name),
        extra_targets=[ExtraTarget(target(service_name, instance_name))],
        custom_data=fields,
    ) as evt:
        evt.attach(Sink(writer))
        client, ctx = lookup.instance_client(deps, inst, call_context(evt))
        args = BindArgs(inst, app, client, ctx, evt, params, restart,
                        skip_units=svc.disable_bind_unit)  # fmt: skip
        with pending(deps, inst, PendingOp("bind", app_name, evt.unique_id, restart)):
            try:
                envs = bind_pipeline(deps).execute(args)
            except TsubameError as exc:
                raise BindFailed(exc.status, _with_status(client, inst, ctx, str(exc))) from exc
            except Exception as exc:
                raise BindFailed(500, _with_status(client, inst, ctx, str(exc))) from exc
        writer(f'\nInstance "{instance_name}" is now bound to the app "{app_name}".\n')
        if envs:
            writer("The following environment variables are available for use in your app:\n\n")
            for name in sorted(envs):
                writer(f"- {name}\n")
            writer(f"- {SERVICES_VAR}\n")


def _with_status(client: ServiceClient, inst: ServiceInstance, ctx: CallContext, err: str) -> str:
    try:
        status = client.status(inst, CallContext(pool=ctx.pool))
    except Exception as exc:
        return f"{err} (failed to retrieve instance status: {exc})"
    return f'{err} ("{inst.name}" is {status})'


def bind_pipeline(deps: Deps) -> Pipeline[BindArgs]:
    stores = deps.stores.instances

    def add_app(c: Forward[BindArgs]) -> None:
        i, app = c.params.instance, c.params.app
        if not stores.add_app(i.service_name, i.name, app.name):
            raise errors.AppAlreadyBound()

    def remove_app(c: Backward[BindArgs]) -> None:
        a = c.params
        stores.remove_app(a.instance.service_name, a.instance.name, a.app.name)
        # Units the syncer may have bound meanwhile would be left behind: unbind them.
        current = stores.get(a.instance.service_name, a.instance.name)
        if current is not None and not a.skip_units:
            units.unbind_units(deps, current, a.app, a.client, CallContext(pool=a.ctx.pool))

    def call_bind(c: Forward[BindArgs]) -> dict[str, str]:
        a = c.params
        result = a.client.bind_app(a.instance, a.app, a.params, a.ctx)
        if result.broker_data is not None:
            a.instance.broker_data = result.broker_data
            stores.set_broker_data(a.instance.service_name, a.instance.name, result.broker_data)
        return result.envs

    def call_unbind(c: Backward[BindArgs]) -> None:
        a = c.params
        data = a.client.unbind_app(a.instance, a.app, a.ctx)
        if data is not None:
            stores.set_broker_data(a.instance.service_name, a.instance.name, data)

    def set_envs(c: Forward[BindArgs]) -> dict[str, str]:
        a, envs = c.params, c.previous
        if envs:
            _relay(a.evt, deps.apps.set_envs(a.app.name, a.instance.service_name,
                                              a.instance.name, envs, a.restart))  # fmt: skip
        return dict(envs)

    def unset_envs(c: Backward[BindArgs]) -> None:
        if c.result:
            _unset(c.params)

    def envs_failed(c: Forward[BindArgs], exc: BaseException) -> None:
        # The vars may be stored already (a restart failing after them): take them back,
        # where tsuru would leave them set.
        if c.previous:
            _unset(c.params)

    def _unset(a: BindArgs) -> None:
        _relay(a.evt, deps.apps.unset_envs(a.app.name, a.instance.service_name,
                                            a.instance.name, a.restart))  # fmt: skip

    def bind_units(c: Forward[BindArgs]) -> dict[str, str]:
        a = c.params
        if not a.skip_units:
            # The restart may have replaced the units: bind the ones running now.
            app = deps.apps.get(a.app.name) or a.app
            current = lookup.instance(deps, a.instance.service_name, a.instance.name)
            units.bind_units(deps, current, app, a.client, CallContext(pool=a.ctx.pool))
        envs: dict[str, str] = c.previous
        return envs

    return Pipeline(
        Action("bind-app-db", add_app, remove_app),
        Action("bind-app-endpoint", call_bind, call_unbind),
        Action("set-bound-envs", set_envs, unset_envs, envs_failed),
        Action("bind-units", bind_units),
    )


# -- unbind --------------------------------------------------------------------------


def unbind(
    deps: Deps,
    identity: Identity,
    service_name: str,
    instance_name: str,
    app_name: str,
    *,
    restart: bool,
    force: bool,
    fields: Any,
    writer: Callable[[str], None],
) -> None:
    inst = lookup.instance(deps, service_name, instance_name)
    app = app_view(deps, app_name)
    ensure(identity, "service-instance.update.unbind", instance_bind_contexts(inst))
    permit = authorize(identity, "app.update.unbind", app_contexts(app.teams, app.name, app.pool))
    if force:
        ensure(identity, "service.update", service_admin(lookup.service(deps, service_name)))
    with permit.record(
        deps.recorder,
        target=Target("app", app_name),
        extra_targets=[ExtraTarget(target(service_name, instance_name))],
        custom_data=fields,
    ) as evt:
        evt.attach(Sink(writer))
        unbind_app(deps, evt, inst, app, restart=restart, force=force)
        writer(f'\nInstance "{instance_name}" is not bound to the app "{app_name}" anymore.\n')


def unbind_app(
    deps: Deps,
    evt: RunningEvent,
    inst: ServiceInstance,
    app: AppView,
    *,
    restart: bool,
    force: bool,
    envs: bool = True,
) -> None:
    """The unbind pipeline of one app (also used by instance removal and app removal;
    ``envs=False`` when the app is gone and has no env vars left to remove)."""
    if app.name not in inst.apps:
        raise errors.AppNotBound()
    client, ctx = lookup.instance_client(deps, inst, call_context(evt))
    skip_units = lookup.service(deps, inst.service_name).disable_bind_unit
    args = BindArgs(inst, app, client, ctx, evt, {}, restart, force, skip_units)
    stores = deps.stores.instances
    unit_ctx = CallContext(pool=ctx.pool)

    def unbind_units(c: Forward[BindArgs]) -> list[Any]:
        return units.unbind_units(deps, inst, app, client, unit_ctx)

    def rebind_units(c: Backward[BindArgs]) -> None:
        units.rebind_units(deps, inst, app, client, unit_ctx, c.result or [])

    def remove_app(c: Forward[BindArgs]) -> None:
        stores.remove_app(inst.service_name, inst.name, app.name)

    def add_app(c: Backward[BindArgs]) -> None:
        stores.add_app(inst.service_name, inst.name, app.name)

    def call_unbind(c: Forward[BindArgs]) -> None:
        try:
            data = client.unbind_app(inst, app, ctx)
        except errors.InstanceNotFoundInApi:
            return  # gone from the API already: nothing to undo there
        except Exception as exc:
            if not force:
                raise
            evt.log(f"[unbind-app-endpoint] ignored error due to force: {exc}\n")
            log.warning("unbind of %s from %s ignored by force: %s", inst.key, app.name, exc)
            return
        if data is not None:
            stores.set_broker_data(inst.service_name, inst.name, data)

    def call_bind(c: Backward[BindArgs]) -> None:
        result = client.bind_app(inst, app, {}, ctx)
        if result.broker_data is not None:
            stores.set_broker_data(inst.service_name, inst.name, result.broker_data)

    def unset_envs(c: Forward[BindArgs]) -> None:
        if envs:
            _relay(evt, deps.apps.unset_envs(app.name, inst.service_name, inst.name, restart))

    # The app leaves ``apps`` before its units are unbound (tsuru does it after): the
    # bind syncer then cannot bind a unit again in between.
    pipeline = Pipeline(
        Action("unbind-app-db", remove_app, add_app),
        Action("unbind-units", unbind_units if not skip_units else lambda c: [], rebind_units),
        Action("unbind-app-endpoint", call_unbind, call_bind),
        Action("remove-bound-envs", unset_envs),
    )
    with pending(deps, inst, PendingOp("unbind", app.name, evt.unique_id, restart)):
        pipeline.execute(args)


@contextmanager
def pending(deps: Deps, inst: ServiceInstance, op: PendingOp) -> Iterator[None]:
    """Note the operation on the instance for its whole run: a process that dies in it
    leaves the note, and the recovery (recovery.py) finishes the job. An operation
    that ends, well or after its undo, takes the note away."""
    deps.stores.instances.add_pending(inst.service_name, inst.name, op)
    try:
        yield
    finally:
        deps.stores.instances.remove_pending(inst.service_name, inst.name, op.event)
