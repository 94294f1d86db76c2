"""The reconciler: reality (``backend.units()``) is brought to the desired state of every
app, so units outlive a worker killed with -9 and come back when they die: a worker that
starts re-adopts what runs, starts what is missing, removes what nobody wants, and
rebuilds the route table.

It costs what changed, not what exists (``Reconciler``):

* a tick (every ``reconcile_interval``) lists the units the backends run and compares
  each app's units with the previous tick's; only the apps whose units changed (a crash,
  a restart, a unit gone or come), the apps a command of this worker touched
  (``deps.touched``) and those left busy or failed last time have their desired state,
  unit records and route read, one app at a time;
* a full pass (at start, then every ``reconcile_full_interval``) reads everything once
  (all records, all runtimes, all routes): what no tick saw (a desired state changed by
  a worker that died, a route document lost) is repaired there.

Either way an app is touched only where something differs, under its lease taken without
waiting: an app busy with a command is left to that command and looked at again next tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from services.provisioner.backends.base import UnitState
from services.provisioner.domain.reconcile import Plan, plan
from services.provisioner.domain.routes import Route, route_for
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime import platforms, scheduler, state, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.nodes import report_nodes
from services.provisioner.operations.runtime.progress import APP_LOG_SOURCE

log = logging.getLogger(__name__)


@dataclass
class PassStats:
    apps: int = 0  # apps looked at
    changed: int = 0
    busy: int = 0
    failed: int = 0
    full: bool = True
    # Apps to look at again next tick (busy with a command, or failed).
    retry: set[str] = field(default_factory=set)


def _by_app(units: Iterable[UnitState]) -> dict[str, list[UnitState]]:
    observed: dict[str, list[UnitState]] = {}
    for s in units:
        observed.setdefault(s.app, []).append(s)
    return observed


def reconcile_pass(
    deps: RuntimeDeps,
    observed: dict[str, list[UnitState]] | None = None,
    said: dict[str, str] | None = None,
) -> PassStats:
    """The full pass: every app's records, runtime and route read once (``said``: the
    failures already logged, see ``_reconcile_each``)."""
    if observed is None:
        observed = _by_app(deps.backend.units())
    records: dict[str, list[Unit]] = {}
    for u in deps.stores.units.all():
        records.setdefault(u.app, []).append(u)
    routes = {r.app: r for r in deps.stores.routes.all()}
    runtimes = {rt.app: rt for rt in deps.stores.runtimes.all()}
    names = set(runtimes) | set(observed) | set(records) | set(routes)
    return _reconcile_each(
        deps,
        sorted(names),
        lambda app: (runtimes.get(app), records.get(app, []), routes.get(app)),
        observed,
        said,
    )


def reconcile_apps(
    deps: RuntimeDeps,
    apps: Collection[str],
    observed: dict[str, list[UnitState]],
    said: dict[str, str] | None = None,
) -> PassStats:
    """A tick's pass over ``apps`` only: each one's records, runtime and route read."""
    names = sorted(apps)
    records = deps.stores.units.of_apps(names) if names else {}

    def read(app: str) -> tuple[AppRuntime | None, list[Unit], Route | None]:
        return deps.stores.runtimes.get(app), records.get(app, []), deps.stores.routes.get(app)

    stats = _reconcile_each(deps, names, read, observed, said)
    stats.full = False
    return stats


def _reconcile_each(
    deps: RuntimeDeps,
    names: Sequence[str],
    read: Callable[[str], tuple[AppRuntime | None, list[Unit], Route | None]],
    observed: dict[str, list[UnitState]],
    said: dict[str, str] | None = None,
) -> PassStats:
    """Each app of ``names`` reconciled; one that fails is retried next pass. ``said``
    (app -> the failure last logged) keeps a failure that repeats from being logged every
    pass (a backend left unusable fails its apps' unit starts each time): logged once per
    cause, again when the cause changes or after the app reconciled well."""
    stats = PassStats()
    said = {} if said is None else said
    for app in names:
        stats.apps += 1
        try:
            rt, records, route = read(app)
            outcome = reconcile_app(deps, app, rt, records, observed.get(app, []), route)
        except Exception as exc:
            stats.failed += 1
            stats.retry.add(app)
            cause = f"{type(exc).__name__}: {exc}"
            if said.get(app) != cause:
                said[app] = cause
                log.exception("reconciling %s failed; next passes try again", app)
            else:
                log.debug("reconciling %s failed again: %s", app, cause)
            continue
        if outcome != "busy":
            said.pop(app, None)
        if outcome == "busy":
            stats.busy += 1
            stats.retry.add(app)
        elif outcome == "changed":
            stats.changed += 1
    return stats


Fingerprint = tuple[tuple[str, str, str, int, str, str], ...]


def fingerprint(units: Iterable[UnitState]) -> Fingerprint:
    """What the reconciler acts on in an app's observed units, comparable between ticks."""
    return tuple(
        sorted((s.id, s.status, s.address, s.restarts, s.status_detail, s.node) for s in units)
    )


class Reconciler:
    """Ticks that read only what changed, and a full pass now and then (module doc)."""

    def __init__(self, deps: RuntimeDeps, clock: Callable[[], float] = time.monotonic) -> None:
        self.deps = deps
        self.clock = clock
        self._seen: dict[str, Fingerprint] = {}
        self._retry: set[str] = set()
        self._last_full: float | None = None
        self._said: dict[str, str] = {}  # app -> the failure last logged

    def tick(self) -> PassStats:
        deps = self.deps
        observed = _by_app(deps.backend.units())
        seen = {app: fingerprint(units) for app, units in observed.items()}
        now = self.clock()
        full = (
            self._last_full is None or now - self._last_full >= deps.config.reconcile_full_interval
        )
        touched = deps.touched.take()
        try:
            if full:
                stats = reconcile_pass(deps, observed, self._said)
                self._last_full = now
            else:
                moved = {
                    a for a in seen.keys() | self._seen.keys() if seen.get(a) != self._seen.get(a)
                }
                stats = reconcile_apps(deps, moved | touched | self._retry, observed, self._said)
        except BaseException:
            # The store failed before any app was looked at: nothing is forgotten (the
            # apps seen moving are compared with the same previous tick next time).
            deps.touched.mark(touched)
            raise
        self._seen = seen
        self._retry = stats.retry
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
        if not scheduler.node_answers(deps, unit.node):
            continue  # the healer records it stopped elsewhere
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
    """The worker's loop: a full pass now (routes rebuilt on start), then a tick every
    interval; the backend's nodes reported to the catalogue now and then."""
    reconciler = Reconciler(deps)
    reported = swept = 0.0
    failing = ""
    failed = 0
    while not stop.is_set():
        try:
            stats = reconciler.tick()
            # Apps failing the same way each pass are not reported each pass.
            if stats.changed or stats.failed != failed:
                log.info("reconciler: %s", stats)
            failed = stats.failed
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
        if time.monotonic() - swept >= platforms.SWEEP_INTERVAL:
            swept = time.monotonic()
            try:
                platforms.sweep(deps)
            except Exception:
                log.exception("sweeping the platform images failed")
        stop.wait(deps.config.reconcile_interval)
