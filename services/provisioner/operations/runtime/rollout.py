"""Bringing new units in and old ones out with no moment without a healthy unit, in
tsuru's words (provision/docker/actions.go): start and check the new units, route them,
unroute the old ones, wait for the gateways, remove the old ones. A failure before the
new units are routed destroys them and leaves the old ones serving."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from services.provisioner.backends.base import BackendError, ExecRequest, Limits
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.runtime_errors import ExitCode, UnitStartup
from services.provisioner.domain.units import Unit, short_id
from services.provisioner.operations.runtime import builds, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.progress import Progress
from services.provisioner.operations.runtime.volumes import mounts_of

log = logging.getLogger(__name__)


def _describe(units: Sequence[Unit]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.process] = counts.get(unit.process, 0) + 1
    return counts


def restart_after_hooks(
    deps: RuntimeDeps, rt: AppRuntime, unit: Unit, progress: Progress, action: str
) -> None:
    release = rt.release(unit.version)
    plan = rt.spec.plan
    for command in release.hooks.restart_after:
        req = ExecRequest(
            app=rt.app,
            command=command,
            env=dict(rt.spec.env),
            release=release.release(rt.app),
            unit=unit.id,
            limits=Limits(plan.memory, plan.swap, plan.cpumilli, plan.cpushare),
            mounts=mounts_of(deps, rt.app),
            timeout=600.0,
        )
        try:
            code = deps.backend.exec(req, progress.write, progress.cancel)
        except BackendError as exc:
            raise UnitStartup(
                action,
                f'couldn\'t execute restart:after hook "{command}"({short_id(unit.id)}): {exc}',
            ) from exc
        if code != 0:
            why = ExitCode(code)
            raise UnitStartup(
                action,
                f'couldn\'t execute restart:after hook "{command}"({short_id(unit.id)}): {why}',
            )


def start_new(
    deps: RuntimeDeps,
    rt: AppRuntime,
    counts: Mapping[tuple[str, int], int],
    progress: Progress,
    action: str,
) -> list[Unit]:
    """Record, start and check ``counts`` new units of each (process, version); on any
    failure they are destroyed (never routed) and the error propagates."""
    for version in sorted({version for _, version in counts}):
        # Built by another provisioner (left without units by a pool move): again, once.
        builds.built_here(deps, rt, version, progress)
    made: list[Unit] = []
    for (process, version), n in counts.items():
        made += unitset.record_units(deps, rt, process, version, n)
    if not made:
        return []
    progress.write(unitset.units_line(_describe(made)))
    try:
        started: list[Unit] = []
        for unit in made:
            progress.check()
            started.append(unitset.start(deps, rt, unit))
            progress.write(f" ---> Started unit {short_id(unit.id)} [{unit.process}]\n")
        n = len(made)
        progress.write(f"\n---- Binding and checking {n} new {unitset.pluralize('unit', n)} ----\n")
        for version in sorted({u.version for u in made}):
            mine = [u for u in started if u.version == version]
            unitset.wait_healthy(deps, rt, rt.release(version), mine, progress, action)
        for unit in started:
            restart_after_hooks(deps, rt, unit, progress, action)
            progress.write(f" ---> Bound and checked unit {short_id(unit.id)} [{unit.process}]\n")
        progress.check()
    except BaseException as exc:
        destroy(deps, rt, made, progress, exc)
        raise
    unitset.announce_units(deps, rt.app, added=made)
    return [deps.stores.units.get(u.id) or u for u in made]


def destroy(
    deps: RuntimeDeps, rt: AppRuntime, units: Sequence[Unit], progress: Progress, why: BaseException
) -> None:
    reason = why.cause if isinstance(why, UnitStartup) else str(why)
    progress.write(f"\n**** ROLLING BACK AFTER FAILURE ****\n ---> {reason} <---\n")
    n = len(units)
    progress.write(f"\n---- Destroying {n} created {unitset.pluralize('unit', n)} ----\n")
    for unit in units:
        try:
            deps.backend.remove_unit(unit.id)
            deps.stores.units.delete(unit.id)
        except Exception:
            log.exception("could not destroy unit %s; the reconciler will", unit.id)
            continue
        progress.write(f" ---> Destroyed unit {short_id(unit.id)} [{unit.process}]\n")
    unitset.sync_route(deps, rt)


def announce_routes(progress: Progress, added: Sequence[Unit], removed: Sequence[Unit]) -> None:
    if added:
        progress.write("\n---- Adding routes to new units ----\n")
        for unit in added:
            progress.write(f" ---> Added route to unit {short_id(unit.id)} [{unit.process}]\n")
    if removed:
        progress.write("\n---- Removing routes from old units ----\n")
        for unit in removed:
            progress.write(f" ---> Removed route from unit {short_id(unit.id)} [{unit.process}]\n")


def retire(
    deps: RuntimeDeps,
    rt: AppRuntime,
    old: Sequence[Unit],
    progress: Progress,
    *,
    drained: bool = False,
) -> None:
    """Old units out of the route, drained (unless ``drained``: already out), removed."""
    if not old:
        return
    if not drained:
        unitset.take_out(deps, rt, old)
    n = len(old)
    progress.write(f"\n---- Removing {n} old {unitset.pluralize('unit', n)} ----\n")
    for unit in old:
        deps.backend.remove_unit(unit.id)
        deps.stores.units.delete(unit.id)
        progress.write(f" ---> Removed old unit {short_id(unit.id)} [{unit.process}]\n")
    unitset.sync_route(deps, rt)
    unitset.announce_units(deps, rt.app, removed=old)


def replace_units(
    deps: RuntimeDeps, rt: AppRuntime, old: Sequence[Unit], progress: Progress, action: str
) -> list[Unit]:
    """Restart without a gap: as many new units per (process, version) as ``old`` holds,
    checked and routed, then the old ones retired."""
    counts: dict[tuple[str, int], int] = {}
    for unit in old:
        counts[(unit.process, unit.version)] = counts.get((unit.process, unit.version), 0) + 1
    new = start_new(deps, rt, counts, progress, action)
    unitset.sync_route(deps, rt)
    routed = [u for u in new if u.version in rt.routable]
    announce_routes(progress, routed, [u for u in old if u.version in rt.routable])
    retire(deps, rt, old, progress)
    return new
