"""Units of bound apps: bind-unit / unbind-unit calls and their records (catalog.md
§c.4 step 4, §c.6), for the bind pipeline, units that come and go later
(``provisioner.units.changed``) and the periodic bind syncer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from services.catalog.domain.models import AppUnit, AppView, BoundUnit, ServiceInstance
from services.catalog.operations import lookup
from services.catalog.operations.deps import CallContext, Deps, ServiceClient
from shared import requestid
from shared.events import INTERNAL_OWNER, Allowed, EventSpec, Target

log = logging.getLogger(__name__)

MAX_PARALLEL = 16  # unit calls in flight per operation


def bind_unit(
    deps: Deps, inst: ServiceInstance, app: AppView, unit: AppUnit, client: ServiceClient,
    ctx: CallContext,
) -> bool:  # fmt: skip
    """Record the unit, then call bind-unit; a failed call takes the record back.
    False when the unit was already recorded (nothing to do)."""
    record = BoundUnit(app.name, unit.id, unit.ip)
    if not deps.stores.instances.add_unit(inst.service_name, inst.name, record):
        return False
    try:
        client.bind_unit(inst, app, unit, ctx)
    except BaseException:
        deps.stores.instances.remove_unit(inst.service_name, inst.name, record)
        raise
    return True


def unbind_unit(
    deps: Deps, inst: ServiceInstance, app: AppView, unit: AppUnit, client: ServiceClient,
    ctx: CallContext,
) -> bool:  # fmt: skip
    """Drop the record, then call unbind-unit; a failed call puts the record back.
    False when the unit was not recorded (nothing to do)."""
    record = BoundUnit(app.name, unit.id, unit.ip)
    if not deps.stores.instances.remove_unit(inst.service_name, inst.name, record):
        return False
    try:
        client.unbind_unit(inst, app, unit, ctx)
    except BaseException:
        deps.stores.instances.add_unit(inst.service_name, inst.name, record)
        raise
    return True


def each(units: Iterable[AppUnit], call: Callable[[AppUnit], bool]) -> tuple[
    list[AppUnit], list[BaseException]
]:  # fmt: skip
    """Run ``call`` for every unit concurrently: the units it did something for, and
    the errors raised."""
    listed = list(units)
    if not listed:
        return [], []
    done: list[AppUnit] = []
    failed: list[BaseException] = []
    with ThreadPoolExecutor(min(MAX_PARALLEL, len(listed))) as pool:
        futures = [(u, pool.submit(requestid.carried(call), u)) for u in listed]
        for unit, future in futures:
            try:
                if future.result():
                    done.append(unit)
            except Exception as exc:
                failed.append(exc)
    return done, failed


def bind_units(
    deps: Deps, inst: ServiceInstance, app: AppView, client: ServiceClient, ctx: CallContext
) -> None:
    """Every current unit of the app; when one fails, the ones bound here are unbound
    and the first error raises (tsuru's bind-units action)."""
    done, failed = each(app.units, lambda u: bind_unit(deps, inst, app, u, client, ctx))
    if failed:
        for unit in done:
            try:
                unbind_unit(deps, inst, app, unit, client, ctx)
            except Exception:
                log.exception("could not unbind unit %s after a failed bind", unit.id)
        raise failed[0]


def recorded_units(inst: ServiceInstance, app: str) -> list[AppUnit]:
    return [AppUnit(u.id, u.ip) for u in inst.bound_units if u.app_name == app]


def unbind_units(
    deps: Deps, inst: ServiceInstance, app: AppView, client: ServiceClient, ctx: CallContext
) -> list[AppUnit]:
    """Every unit recorded for the app; when one fails, the ones unbound here are bound
    again and the first error raises. Returns the units unbound."""
    units = recorded_units(inst, app.name)
    done, failed = each(units, lambda u: unbind_unit(deps, inst, app, u, client, ctx))
    if failed:
        rebind_units(deps, inst, app, client, ctx, done)
        raise failed[0]
    return done


def rebind_units(
    deps: Deps, inst: ServiceInstance, app: AppView, client: ServiceClient, ctx: CallContext,
    units: list[AppUnit],
) -> None:  # fmt: skip
    for unit in units:
        try:
            bind_unit(deps, inst, app, unit, client, ctx)
        except Exception:
            log.exception("could not bind unit %s again after a failed unbind", unit.id)


# -- units coming and going after the bind -------------------------------------------


@dataclass
class SyncReport:
    binds: dict[str, list[str]] = field(default_factory=dict)  # instance -> unit ids
    unbinds: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.binds or self.unbinds or self.errors)


def sync_app(
    deps: Deps,
    app: AppView,
    *,
    added: Iterable[AppUnit] | None = None,
    removed: Iterable[AppUnit] = (),
) -> SyncReport:
    """Bind the app's units an instance does not know and unbind the recorded ones that
    are gone. ``added``/``removed`` (a ``provisioner.units.changed`` message) narrow it;
    without them the app's current units are the truth (the syncer)."""
    report = SyncReport()
    current = {u.id: u for u in app.units}
    for inst in deps.stores.instances.bound_to(app.name):
        if any(op.app == app.name for op in inst.pending):
            continue  # a bind or unbind of this app is running: its own steps do the units
        try:
            svc = lookup.service(deps, inst.service_name)
            if svc.disable_bind_unit:
                continue
            client, ctx = lookup.instance_client(deps, inst)
        except Exception as exc:
            report.errors.append(f"{inst.key}: {exc}")
            continue
        recorded = {u.id: u for u in recorded_units(inst, app.name)}
        if added is None:
            to_bind = [u for uid, u in current.items() if uid not in recorded]
            gone = [u for uid, u in recorded.items() if uid not in current]
        else:
            to_bind = [u for u in added if u.id not in recorded]
            gone = [recorded[u.id] for u in removed if u.id in recorded]
        _apply(deps, inst, app, client, ctx, to_bind, gone, report)
    return report


def _apply(
    deps: Deps, inst: ServiceInstance, app: AppView, client: ServiceClient, ctx: CallContext,
    to_bind: list[AppUnit], gone: list[AppUnit], report: SyncReport,
) -> None:  # fmt: skip
    for units, call, out, verb in (
        (to_bind, bind_unit, report.binds, "bind"),
        (gone, unbind_unit, report.unbinds, "unbind"),
    ):
        if not units:
            continue
        done, failed = each(units, lambda u, c=call: c(deps, inst, app, u, client, ctx))  # type: ignore[misc]
        out.setdefault(inst.name, []).extend(u.id for u in units)
        report.errors += [f"failed to {verb} a unit for {inst.key}: {e}" for e in failed]


def sync_with_event(deps: Deps, app: AppView, **narrow: Iterable[AppUnit]) -> SyncReport:
    """``sync_app`` recorded as tsuru's internal ``bindsyncer`` event on the app, only
    when it did or failed something (tsuru aborts the empty ones)."""
    report = sync_app(deps, app, **narrow)  # type: ignore[arg-type]
    if report.empty:
        return report
    spec = EventSpec(
        target=Target("app", app.name),
        kind="bindsyncer",
        owner=INTERNAL_OWNER,
        allowed=Allowed("app.read.events", (("app", app.name),)),
        lock=False,
        internal=True,
    )
    evt = deps.recorder.start(spec)
    data = {"binds": report.binds, "unbinds": report.unbinds}
    evt.done("; ".join(report.errors) or None, end_custom_data=data)
    return report


def sync_all(deps: Deps) -> int:
    """One run of the bind syncer over every bound app; returns the apps synced."""
    synced = 0
    for name in deps.stores.instances.bound_apps():
        try:
            app = deps.apps.get(name)
        except Exception as exc:
            log.warning("bind syncer: cannot read app %s: %s", name, exc)
            continue
        if app is None:
            continue  # removed: apps.app.removed unbinds it
        try:
            sync_with_event(deps, app)
            synced += 1
        except Exception:
            log.exception("bind syncer: app %s", name)
    return synced
