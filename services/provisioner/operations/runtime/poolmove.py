"""A pool move to another provisioner (``PUT /apps/{app}`` with ``pool``; apps.md §9.1:
"a pool change to a different provisioner re-creates the app there with the same unit
counts"), tsuru's provisionAppNewProvisioner / provisionAppAddUnits /
destroyAppOldProvisioner, reversible until the switch:

1. every version that has units is built again by the new provisioner from the archive
   kept with it (a process release directory is no docker image, and back); the
   versions without units stay marked as the old provisioner's and are built again
   the same way when units of them are started (builds.built_here: a rollback, or any
   other path that starts units); an app without units changing provisioner has all
   its versions marked so (``keep_old_builds``);
2. as many units per process and version start there, checked like a deploy's, and
   enter the route beside the old ones; stopped or asleep units are recorded there
   stopped or asleep (their container or process is made at their next start);
3. the app's desired state switches to the new pool and releases, then the old units
   leave the route, drain and go.

A failure before the switch destroys what the new side started and leaves the app as
it was (old pool, old units serving); the error goes back to apps, which restores the
app's pool. Runs under the app's lease (the update command's).
"""

from __future__ import annotations

from dataclasses import replace

from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime import STARTED, AppRuntime, VersionRelease
from services.provisioner.domain.runtime_errors import VolumesBound
from services.provisioner.operations.runtime import builds, rollout, scheduler, state, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.progress import Progress


def crosses(deps: RuntimeDeps, before: AppRuntime, spec: AppSpec) -> bool:
    """Whether ``spec`` puts the app under another provisioner than its units run on."""
    old = scheduler.provisioner_of(deps, before)
    new = scheduler.provisioner_of(deps, replace(before, spec=spec))
    return old != new


def rebuild(
    deps: RuntimeDeps, rt: AppRuntime, release: VersionRelease, progress: Progress
) -> VersionRelease:
    """``release`` built again, from its kept archive, where ``rt`` (the new spec) runs."""
    return builds.rebuild(
        deps, rt, release, progress,
        remedy="deploy the app again before moving it to another provisioner",
    )  # fmt: skip


def keep_old_builds(deps: RuntimeDeps, rt: AppRuntime) -> dict[int, VersionRelease]:
    """``rt``'s releases, each marked as built by the provisioner ``rt`` runs on when it
    names none yet (versions built before releases recorded their provisioner)."""
    old = scheduler.provisioner_of(deps, rt)
    return {
        version: kept if kept.provisioner else replace(kept, provisioner=old)
        for version, kept in rt.releases.items()
    }


def move(deps: RuntimeDeps, rt: AppRuntime, spec: AppSpec, progress: Progress) -> None:
    """Re-create the app's units under the provisioner of ``spec``'s pool (``rt`` as
    stored, with the old spec)."""
    if deps.catalogue is not None and deps.catalogue.volumes.binds_of_app(rt.app):
        raise VolumesBound()
    old_provisioner = scheduler.provisioner_of(deps, rt)
    moved = replace(rt, spec=spec, releases=dict(rt.releases))
    new_provisioner = scheduler.provisioner_of(deps, moved)
    progress.write(
        f'---- Moving the app "{rt.app}" from provisioner "{old_provisioner}" to '
        f'"{new_provisioner}" ----\n'
    )
    versions = sorted({g.version for g in rt.groups if not g.pending})
    # Not rebuilt now: marked as the old provisioner's, rebuilt when units of them start.
    moved.releases = keep_old_builds(deps, rt)
    for version in versions:
        progress.check()
        moved.releases[version] = rebuild(deps, moved, rt.release(version), progress)
    old = deps.stores.units.of_app(rt.app)
    live = {g.key: g.units for g in rt.groups if g.status == STARTED and not g.pending}
    down_keys = {g.key for g in rt.groups if g.status != STARTED and not g.pending}
    counts = {key: n for key, n in live.items() if n > 0}
    new = rollout.start_new(deps, moved, counts, progress, "pool change")
    try:
        down = unitset.record_down(
            deps, moved, [u for u in old if (u.process, u.version) in down_keys]
        )
    except BaseException as exc:
        rollout.destroy(deps, rt, new, progress, exc)
        raise
    # The switch: from here on the app is the new provisioner's.
    rt.spec, rt.releases = spec, moved.releases
    state.save(deps, rt)
    unitset.sync_route(deps, rt)
    webs = {v: rt.release(v).web for v in rt.routable if v in rt.releases}
    rollout.announce_routes(
        progress,
        [u for u in new if webs.get(u.version) == u.process],
        [u for u in old if webs.get(u.version) == u.process and u.status == STARTED],
    )
    rollout.retire(deps, rt, old, progress)
    unitset.announce_units(deps, rt.app, added=down)
