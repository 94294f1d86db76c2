"""The reconciler: every few seconds, reality (``backend.units()``) is brought to the
desired state of every app, so units outlive a worker killed with -9 and come back when
they die: a worker that starts re-adopts what runs, starts what is missing, removes what
nobody wants, and rebuilds the route table.

One pass reads everything once (all backend units, all records, all routes) and touches
only the apps where something differs, each under its lease taken without waiting: an
app busy with a command is left to that command and looked at again next pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from services.provisioner.backends.base import UnitState
from services.provisioner.domain.reconcile import Plan, plan
from services.provisioner.domain.routes import Route, route_for
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime import scheduler, state, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.nodes import report_nodes
from services.provisioner.operations.runtime.progress import APP_LOG_SOURCE

log = logging.getLogger(__name__)


@dataclass
class PassStats:
    apps: int = 0
    changed: int = 0
    busy: int = 0
    failed: int = 0


def reconcile_pass(deps: RuntimeDeps) -> PassStats:
    stats = PassStats()
    observed: dict[str, list[UnitState]] = {}
    for s in deps.backend.units():
        observed.setdefault(s.app, []).append(s)
    records: dict[str, list[Unit]] = {}
    for u in deps.stores.units.all():
        records.setdefault(u.app, []).append(u)
    routes = {r.app: r for r in deps.stores.routes.all()}
    runtimes = {rt.app: rt for rt in deps.stores.runtimes.all()}
    names = set(runtimes) | set(observed) | set(records) | set(routes)
    for app in sorted(names):
        stats.apps += 1
        try:
            outcome = reconcile_app(
                deps,
                app,
                runtimes.get(app),
                records.get(app, []),
                observed.get(app, []),
                routes.get(app),
            )
        except Exception:
            stats.failed += 1
            log.exception("reconciling %s failed; next pass tries again", app)
            continue
        if outcome == "busy":
            stats.busy += 1
        elif outcome == "changed":
            stats.changed += 1
    return stats


def _route_differs(
    deps: RuntimeDeps, rt: AppRuntime | None, units: Sequence[Unit], route: Route | None
) -> bool:
    if rt is None:
        return route is not None
    return not route_for(rt, units, deps.config.apps_domain).same_as(route)


def reconcile_app(
    deps: RuntimeDeps,
    app: str,
    rt: AppRuntime | None,
    records: Sequence[Unit],
    observed: Sequence[UnitState],
    route: Route | None,
) -> str:
    """What happened: ``same`` (nothing to do), ``busy`` (a command holds the app) or
    ``changed``. ``rt``, ``records``, ``observed`` and ``route`` as the pass read them
    (unlocked): under the lease everything is read again."""
    todo = plan(rt, records, observed)
    if not todo and not any(g.pending for g in (rt.groups if rt else [])):
        if not _route_differs(deps, rt, records, route):
            return "same"
    lease = AppLease(deps, app, wait=0)
    if not lease.try_acquire():
        return "busy"
    try:
        # Under the lease, look again: the command that just left may have changed all.
        rt = deps.stores.runtimes.get(app)
        records = deps.stores.units.of_app(app)
        todo = plan(rt, records, deps.backend.units(app), pending_stale=True)
        apply(deps, app, rt, todo)
    finally:
        lease.release()
    return "changed"


def apply(deps: RuntimeDeps, app: str, rt: AppRuntime | None, todo: Plan) -> None:
    if rt is None:
        unitset.drop_route(deps, app)
        for unit in todo.remove:
            deps.backend.remove_unit(unit.id)
            deps.stores.units.delete(unit.id)
        unitset.announce_units(deps, app, removed=todo.remove)
        for uid in todo.orphans:
            log.info("removing unit %s of %s: nothing wants it", uid, app)
            deps.backend.remove_unit(uid)
        return
    if todo.stale_pending:
        log.info("%s: dropping units of a deploy that died: %s", app, todo.stale_pending)
        rt.drop_groups(todo.stale_pending)
        state.save(deps, rt)
    for uid, fields in todo.statuses.items():
        deps.stores.units.update(uid, fields)
    for uid, line in todo.crashes.items():
        try:
            deps.app_log.write(app, APP_LOG_SOURCE, uid, line)
        except Exception:
            log.warning("app log of %s refused a line", app, exc_info=True)
    for uid in todo.orphans:
        log.info("removing unit %s of %s: nothing wants it", uid, app)
        deps.backend.remove_unit(uid)
    if todo.remove:
        unitset.remove(deps, rt, todo.remove)
    for unit in todo.stop:
        deps.backend.stop_unit(unit.id)
    for unit in todo.start:
        if not scheduler.node_answers(deps, unit.node):
            # Its node is silent: moving its units elsewhere is the healer's (recorded).
            continue
        log.info("starting unit %s of %s again", unit.id, app)
        unitset.start(deps, rt, unit)
    created: list[Unit] = []
    for (process, version), n in todo.create.items():
        if version not in rt.releases:
            continue
        for unit in unitset.record_units(deps, rt, process, version, n):
            created.append(unitset.start(deps, rt, unit))
    unitset.sync_route(deps, rt)
    unitset.announce_units(deps, app, added=created)


# Seconds between two reports of the backend's nodes to the catalogue.
NODE_REPORT_INTERVAL = 30.0


def run_reconciler(deps: RuntimeDeps, stop: threading.Event) -> None:
    """The worker's loop: a pass now (routes rebuilt on start), then every interval; the
    backend's nodes reported to the catalogue now and then."""
    reported = 0.0
    failing = ""
    while not stop.is_set():
        try:
            stats = reconcile_pass(deps)
            if stats.changed or stats.failed:
                log.info("reconciler: %s", stats)
            failing = ""
        except Exception as exc:
            # Said once per cause (an unusable backend would fail every pass).
            if str(exc) != failing:
                log.exception("reconciler pass failed")
                failing = str(exc)
        if time.monotonic() - reported >= NODE_REPORT_INTERVAL:
            try:
                report_nodes(deps)
                reported = time.monotonic()
            except Exception:
                log.exception("reporting the backend's nodes failed")
        stop.wait(deps.config.reconcile_interval)
