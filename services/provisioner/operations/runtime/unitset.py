"""Steps on units every operation shares: record and start units, wait until they are
healthy, take units out of the route and remove them, keep the route table current.

Order rules (no failed request, no orphan):

* a unit is recorded before the backend starts it (a crash in between leaves a record
  the reconciler finishes, never an unknown process);
* a unit enters the route only once healthy; one leaving is taken out of the route,
  given ``drain_seconds`` for the gateways to follow, then stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from services.provisioner.backends.base import (
    ERROR,
    STARTED,
    STOPPED,
    Limits,
    UnitSpec,
    UnitState,
)
from services.provisioner.domain import logconfig
from services.provisioner.domain.infra import LogConfig
from services.provisioner.domain.routes import route_for
from services.provisioner.domain.runtime import AppRuntime, VersionRelease
from services.provisioner.domain.runtime_errors import UnitStartup, log_line
from services.provisioner.domain.units import Unit, new_unit_id, short_id
from services.provisioner.operations.runtime import builds, scheduler
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.progress import Progress
from services.provisioner.operations.runtime.volumes import mounts_of
from shared.bus import keys

log = logging.getLogger(__name__)

_POLL = 0.2
# A unit that crashed this many times while a deploy waits for it fails the deploy.
_CRASHES = 2


def pluralize(word: str, n: int) -> str:
    return word if n == 1 else f"{word}s"


def unit_spec(
    deps: RuntimeDeps, rt: AppRuntime, release: VersionRelease, unit: Unit, node: str = ""
) -> UnitSpec:
    plan = rt.spec.plan
    log = LogConfig()
    if node and deps.catalogue is not None:
        log = logconfig.effective(deps.catalogue.log_configs.all(), scheduler.pool_of(deps, rt))
    return UnitSpec(
        id=unit.id,
        app=rt.app,
        process=unit.process,
        version=unit.version,
        release=release.release(rt.app),
        command=release.processes[unit.process],
        env=dict(rt.spec.env),
        limits=Limits(
            memory=plan.memory, swap=plan.swap, cpu_milli=plan.cpumilli, cpushare=plan.cpushare
        ),
        mounts=mounts_of(deps, rt.app),
        node=node,
        log_driver=log.driver,
        log_opts=dict(log.opts),
    )


def observed(state: UnitState) -> dict[str, object]:
    return {
        "status": state.status,
        "address": state.address,
        "node": state.node,
        "restarts": state.restarts,
        "status_detail": state.status_detail,
    }


def record_units(
    deps: RuntimeDeps, rt: AppRuntime, process: str, version: int, n: int
) -> list[Unit]:
    made = []
    for _ in range(n):
        unit = Unit(
            id=new_unit_id(rt.app, process, version),
            app=rt.app,
            process=process,
            version=version,
            created_at=deps.clock(),
        )
        deps.stores.units.put(unit)
        made.append(unit)
    return made


def record_down(
    deps: RuntimeDeps, rt: AppRuntime, units: Sequence[Unit], exclude: Collection[str] = ()
) -> list[Unit]:
    """Stand-ins for stopped or asleep ``units`` where ``rt`` runs (a node of its pool,
    the scheduler's choice; ``exclude`` never), recorded in their status: nothing runs
    until they are started (their container or process is made then)."""
    made: list[Unit] = []
    for old in units:
        (unit,) = record_units(deps, rt, old.process, old.version, 1)
        node = scheduler.node_for(deps, rt, unit, exclude)
        # The group says what the unit is meant to be (a silent node's record says error).
        group = rt.group(old.process, old.version)
        fields = {"status": group.status if group is not None else old.status, "node": node}
        deps.stores.units.update(unit.id, fields)
        made.append(replace(unit, **fields))  # type: ignore[arg-type]
    return made


def start(
    deps: RuntimeDeps, rt: AppRuntime, unit: Unit, exclude: Collection[str] = (), node: str = ""
) -> Unit:
    """Start (or start again) a recorded unit on ``node``, else on its node (chosen by the
    scheduler; never one of ``exclude``); the record follows what the backend says."""
    node = node or scheduler.node_for(deps, rt, unit, exclude)
    if node and node != unit.node:
        # Recorded first: the next unit scheduled counts this one on its node.
        deps.stores.units.update(unit.id, {"node": node})
    release = rt.release(unit.version)
    if builds.stale(deps, rt, unit.version):
        # A path that wrote no progress of its own (the reconciler): the build's output
        # goes to the app's log.
        quiet = Progress(rt.app, lambda _: None, None, deps.app_log)
        release = builds.built_here(deps, rt, unit.version, quiet)
    spec = unit_spec(deps, rt, release, unit, node)
    state = deps.backend.start_unit(spec)
    fields = observed(state)
    deps.stores.units.update(unit.id, fields)
    return replace(unit, **fields)  # type: ignore[arg-type]


def announce_units(
    deps: RuntimeDeps, app: str, added: Sequence[Unit] = (), removed: Sequence[Unit] = ()
) -> None:
    if not added and not removed:
        return
    body = {
        "app": app,
        "added": [{"id": u.id, "ip": u.host or "127.0.0.1"} for u in added],
        "removed": [{"id": u.id, "ip": u.host or "127.0.0.1"} for u in removed],
    }
    try:
        deps.publisher.publish(keys.UNITS_CHANGED, body)
    except Exception:
        log.warning("could not announce unit changes of %s", app, exc_info=True)


def sync_route(deps: RuntimeDeps, rt: AppRuntime) -> bool:
    """Store and announce the app's route when it changed; True if it did."""
    route = route_for(rt, deps.stores.units.of_app(rt.app), deps.config.apps_domain)
    stored = deps.stores.routes.put(route)
    if stored is None:
        return False
    try:
        deps.publisher.publish(
            keys.ROUTES_CHANGED, {"app": rt.app, "seq": stored.seq, "route": stored.to_json()}
        )
    except Exception:
        log.warning("could not announce the route of %s", rt.app, exc_info=True)
    return True


def drop_route(deps: RuntimeDeps, app: str) -> None:
    seq = deps.stores.routes.delete(app)
    if seq is None:
        return
    try:
        deps.publisher.publish(keys.ROUTES_CHANGED, {"app": app, "seq": seq, "route": None})
    except Exception:
        log.warning("could not announce the removal of the route of %s", app, exc_info=True)


def crash_lines(deps: RuntimeDeps, units: Iterable[Unit]) -> list[str]:
    lines = deps.app_log.last_lines([u.id for u in units])
    return [log_line(ln.date, ln.source, ln.unit, ln.message) for ln in lines]


def wait_healthy(
    deps: RuntimeDeps,
    rt: AppRuntime,
    release: VersionRelease,
    units: Sequence[Unit],
    progress: Progress,
    action: str,
) -> None:
    """Wait until every unit is started and, for the web process, passes tsuru.yaml's
    healthcheck (tsuru's runHealthcheck loop). Raises UnitStartup with tsuru's texts."""
    hc = release.healthcheck
    timeout = hc.deploy_timeout_seconds or deps.config.healthcheck_timeout
    interval = hc.interval_seconds or deps.config.healthcheck_interval
    deadline = time.monotonic() + timeout
    web = release.web
    waiting = {u.id: u for u in units}
    allowed = {u.id: hc.allowed_failures for u in units}
    next_check: dict[str, float] = {}
    last_error: dict[str, str] = {}
    while waiting:
        progress.check()
        states = {s.id: s for s in deps.backend.units(rt.app)}
        now = time.monotonic()
        for uid, unit in list(waiting.items()):
            state = states.get(uid)
            if state is None or state.status == STOPPED:
                raise UnitStartup(action, f"unit {short_id(uid)} [{unit.process}] is gone")
            if state.status == ERROR and state.restarts >= _CRASHES:
                detail = state.status_detail or "it keeps exiting"
                cause = f"unit {short_id(uid)} [{unit.process}] crashed: {detail}"
                raise UnitStartup(action, cause, crash_lines(deps, [unit]))
            if state.status != STARTED:
                last_error[uid] = f"unit {short_id(uid)} [{unit.process}] not started yet"
                continue
            if unit.process != web or not hc.path:
                deps.stores.units.update(uid, observed(state))
                del waiting[uid]
                continue
            if now < next_check.get(uid, 0.0):
                continue
            result = deps.health.check(state.address, hc, short_id(uid))
            if not result.error:
                progress.write(f" ---> healthcheck successful({short_id(uid)})\n")
                deps.stores.units.update(uid, observed(state))
                del waiting[uid]
                continue
            last_error[uid] = result.error
            if result.answered:
                if allowed[uid] == 0:
                    raise UnitStartup(action, result.error, crash_lines(deps, [unit]))
                allowed[uid] -= 1
            if now < deadline:
                progress.write(f" ---> {result.error}. Trying again in {interval:g}s\n")
            next_check[uid] = now + interval
        if waiting and time.monotonic() > deadline:
            uid = next(iter(waiting))
            cause = last_error.get(uid) or f"unit {short_id(uid)} not ready"
            cause = f"timeout waiting healthcheck after {timeout:g}s: {cause}"
            raise UnitStartup(action, cause, crash_lines(deps, waiting.values()))
        if waiting:
            time.sleep(_POLL)


def take_out(deps: RuntimeDeps, rt: AppRuntime, units: Sequence[Unit]) -> None:
    """Out of the route (draining), then wait for the gateways to follow."""
    if not units:
        return
    for unit in units:
        deps.stores.units.update(unit.id, {"draining": True})
    if sync_route(deps, rt) and deps.config.drain_seconds > 0:
        time.sleep(deps.config.drain_seconds)


def remove(deps: RuntimeDeps, rt: AppRuntime, units: Sequence[Unit], *, drain: bool = True) -> None:
    """Take the units out of the route (waiting for the drain), stop and forget them."""
    if drain:
        take_out(deps, rt, units)
    for unit in units:
        deps.backend.remove_unit(unit.id)
        deps.stores.units.delete(unit.id)
    sync_route(deps, rt)
    announce_units(deps, rt.app, removed=units)


def stop(deps: RuntimeDeps, rt: AppRuntime, units: Sequence[Unit], status: str) -> None:
    """Out of the route, then stopped (kept, to start again): recorded as ``status``."""
    take_out(deps, rt, units)
    for unit in units:
        deps.backend.stop_unit(unit.id)
        deps.stores.units.update(unit.id, {"status": status, "address": "", "draining": False})
    sync_route(deps, rt)


def units_line(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    parts = " ".join(f"[{p}: {n}]" for p, n in counts.items())
    return f"\n---- Starting {total} new {pluralize('unit', total)} {parts} ----\n"
