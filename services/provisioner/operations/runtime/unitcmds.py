"""Commands on an app's units: ``units.add``/``units.remove``, ``start``, ``stop``,
``restart``, ``sleep``, and the restarts of ``env`` and ``update`` (apps.md §8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime import ASLEEP, STARTED, STOPPED, AppRuntime, Group
from services.provisioner.domain.runtime_errors import (
    AutoscalerConfigured,
    InvalidCommand,
    InvalidVersion,
    NotEnoughUnits,
    UnitsStopped,
)
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime import poolmove, rollout, state, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.progress import Progress

# The runtime's note of the event whose unit count change was saved last: a command run
# again (redelivered after its worker died) finds its own change made and does not
# count it twice.
COUNTED_BY = "units_counted_by"


def _counted(rt: AppRuntime, p: Progress) -> bool:
    return p.event is not None and rt.extra.get(COUNTED_BY) == p.event.unique_id


def _count_by(rt: AppRuntime, p: Progress) -> None:
    if p.event is not None:
        rt.extra[COUNTED_BY] = p.event.unique_id


def _process(raw: Mapping[str, Any]) -> str:
    process = raw.get("process") or ""
    if not isinstance(process, str):
        raise InvalidCommand("process must be a string")
    return process


def version_arg(raw: Mapping[str, Any]) -> int:
    value = raw.get("version") or 0
    if isinstance(value, str):
        value = value.strip().removeprefix("v")
        if not value.isdigit():
            raise InvalidVersion(raw.get("version"))
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidVersion(raw.get("version"))
    return value


def _count(raw: Mapping[str, Any]) -> int:
    n = raw.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise InvalidCommand("n must be a positive integer")
    return n


def _no_autoscaler(deps: RuntimeDeps, app: str, process: str) -> None:
    if any(s.process == process for s in deps.stores.autoscale.get(app)):
        raise AutoscalerConfigured()


def _members(deps: RuntimeDeps, app: str, groups: Sequence[Group]) -> list[Unit]:
    keys = {g.key for g in groups}
    return [u for u in deps.stores.units.of_app(app) if (u.process, u.version) in keys]


def units_add(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    n, asked = _count(raw), _process(raw)
    rt = state.deployed(deps, spec)
    release = rt.pick_version(version_arg(raw))
    process = release.process_name(asked)
    _no_autoscaler(deps, rt.app, asked)
    if any(g.units and g.status != STARTED for g in rt.groups):
        raise UnitsStopped()
    group = rt.group(process, release.version) or Group(process, release.version, 0)
    if _counted(rt, p):
        # Run again after its units were started and counted: only the routing is left.
        unitset.sync_route(deps, rt)
        return {}
    # Under the lease, units past the group's count were recorded by an attempt that
    # died before saving the new count (this command, redelivered): they never served,
    # so they go and the units are started afresh (added once, not twice).
    leftovers = _members(deps, rt.app, [group])[group.units :]
    if leftovers:
        unitset.remove(deps, rt, leftovers, drain=False)
    new = rollout.start_new(deps, rt, {group.key: n}, p, "add units")
    rt.put_group(replace(group, units=group.units + n))
    _count_by(rt, p)
    state.save(deps, rt)
    unitset.sync_route(deps, rt)
    routed = [u for u in new if u.version in rt.routable and u.process == release.web]
    rollout.announce_routes(p, routed, [])
    return {}


def units_remove(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    n, asked = _count(raw), _process(raw)
    rt = state.deployed(deps, spec)
    release = rt.pick_version(version_arg(raw))
    process = release.process_name(asked)
    _no_autoscaler(deps, rt.app, asked)
    group = rt.group(process, release.version)
    members = _members(deps, rt.app, [group]) if group else []
    if group is not None and _counted(rt, p):
        # Run again after the new count was saved: retire what is left past it.
        victims = members[group.units :]
        p.write(f"\n---- Removing {n} {unitset.pluralize('unit', n)} ----\n")
    else:
        if group is None or len(members) < n:
            raise NotEnoughUnits(n, process, len(members))
        p.write(f"\n---- Removing {n} {unitset.pluralize('unit', n)} ----\n")
        victims = members[-n:]  # the newest first
        rt.put_group(replace(group, units=max(group.units - n, 0)))
        _count_by(rt, p)
        state.save(deps, rt)  # desired first: the reconciler must not bring them back
    routed = [u for u in victims if u.version in rt.routable and u.process == release.web]
    rollout.announce_routes(p, [], routed)
    rollout.retire(deps, rt, victims, p)
    return {}


def _header(p: Progress, rt: AppRuntime, process: str, app_text: str, process_text: str) -> None:
    p.write(process_text.format(process) if process else app_text.format(rt.app))


def _selected(rt: AppRuntime, raw: Mapping[str, Any]) -> list[Group]:
    version = version_arg(raw)
    if version and version not in rt.active_versions():
        raise InvalidVersion(raw.get("version"))
    return rt.selected(_process(raw), version)


def start(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    rt = state.deployed(deps, spec)
    process = _process(raw)
    _header(
        p, rt, process, '\n ---> Starting the app "{}"\n', '\n ---> Starting the process "{}"\n'
    )
    groups = _selected(rt, raw)
    rt.set_status(groups, STARTED)
    state.save(deps, rt)
    _bring_up(deps, rt, groups, p, "start")
    return {}


def _bring_up(
    deps: RuntimeDeps, rt: AppRuntime, groups: Sequence[Group], p: Progress, action: str
) -> None:
    """Start the recorded units of ``groups`` again (same ids, same ports when free), make
    the missing ones, wait until healthy, route them."""
    members = _members(deps, rt.app, groups)
    started = [unitset.start(deps, rt, u) for u in members]
    for version in sorted({u.version for u in started}):
        mine = [u for u in started if u.version == version]
        unitset.wait_healthy(deps, rt, rt.release(version), mine, p, action)
    missing = {}
    for g in groups:
        have = sum(1 for u in members if (u.process, u.version) == g.key)
        if g.units > have:
            missing[g.key] = g.units - have
    if missing:
        rollout.start_new(deps, rt, missing, p, action)
    unitset.sync_route(deps, rt)


def stop(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    return _put_down(deps, spec, raw, p, STOPPED)


def sleep(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    return _put_down(deps, spec, raw, p, ASLEEP)


def _put_down(
    deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress, status: str
) -> dict:
    rt = state.deployed(deps, spec)
    process = _process(raw)
    if status == ASLEEP:
        _header(
            p,
            rt,
            process,
            '\n ---> Putting the app "{}" to sleep\n',
            '\n ---> Putting the process "{}" to sleep\n',
        )
        proxy = raw.get("proxy") or ""
        rt.sleep_proxy = proxy if isinstance(proxy, str) else ""
    else:
        _header(
            p, rt, process, '\n ---> Stopping the app "{}"\n', '\n ---> Stopping the process "{}"\n'
        )
    groups = _selected(rt, raw)
    rt.set_status(groups, status)
    state.save(deps, rt)  # desired first: the reconciler keeps them down
    unitset.stop(deps, rt, _members(deps, rt.app, groups), status)
    return {}


def restart(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    rt = state.deployed(deps, spec)
    process = _process(raw)
    _header(
        p, rt, process, '---- Restarting the app "{}" ----\n', '---- Restarting process "{}" ----\n'
    )
    restart_groups(deps, rt, _selected(rt, raw), p)
    return {}


def restart_groups(deps: RuntimeDeps, rt: AppRuntime, groups: Sequence[Group], p: Progress) -> None:
    """New units for every selected group (a stopped one starts), checked and routed,
    then the old ones retired: the app never stops answering."""
    if any(g.status != STARTED for g in groups):
        rt.set_status(groups, STARTED)
        state.save(deps, rt)
        groups = [rt.group(*g.key) or g for g in groups]
    old = _members(deps, rt.app, groups)
    counts = {g.key: g.units for g in groups if g.units > 0}
    new = rollout.start_new(deps, rt, counts, p, "restart")
    unitset.sync_route(deps, rt)
    routed = {v: rt.release(v).web for v in rt.routable if v in rt.releases}
    rollout.announce_routes(
        p,
        [u for u in new if routed.get(u.version) == u.process],
        [u for u in old if routed.get(u.version) == u.process],
    )
    rollout.retire(deps, rt, old, p)


def env(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    """New env stored; units restarted with it when asked (and when there are units)."""
    rt = state.ensure(deps, spec)
    if raw.get("restart") and rt.active_versions():
        p.write(f'---- Restarting the app "{rt.app}" ----\n')
        restart_groups(deps, rt, rt.selected("", 0), p)
    return {}


def update(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    """Pool, plan, platform or routers changed. A pool move to another provisioner
    re-creates the units there (poolmove.py); within one provisioner a pool move or a
    plan change is a restart with the new spec (the scheduler places the new units)."""
    before = deps.stores.runtimes.get(spec.name)
    if before is not None and before.active_versions() and poolmove.crosses(deps, before, spec):
        poolmove.move(deps, before, spec, p)
        return {}
    if before is not None and poolmove.crosses(deps, before, spec):
        # No units to move: its versions stay the old provisioner's builds, built again
        # when units of them start.
        marked = poolmove.keep_old_builds(deps, before)
        if marked != before.releases:
            before.releases = marked
            state.save(deps, before)
    rt = state.ensure(deps, spec)
    routes_changed = before is None or before.spec.cnames != spec.cnames
    if raw.get("restart") and rt.active_versions():
        p.write(f'---- Restarting the app "{rt.app}" ----\n')
        restart_groups(deps, rt, rt.selected("", 0), p)
    elif routes_changed:
        unitset.sync_route(deps, rt)
    return {}
