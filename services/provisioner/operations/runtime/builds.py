"""Building a version where the app runs: on a docker node on the platform's image, or
by the process backend (docs/runtime.md "Deploy details").

A version records the provisioner that built it. A pool move to another provisioner
rebuilds only the versions that have units (poolmove.py); the others keep the old
provisioner's reference until something starts units of them. ``built_here`` is the one
place that checks: every path that starts units of a version (deploy and rollback,
unit-add, restarts, healing, autoscale, the reconciler) asks it first, and the version
is built again once from its kept archive when another provisioner built it.
"""

from __future__ import annotations

import os
from dataclasses import replace

from services.provisioner.backends.base import BuildRequest, Release
from services.provisioner.backends.base import Canceled as BackendCanceled
from services.provisioner.domain.runtime import AppRuntime, VersionRelease
from services.provisioner.domain.runtime_errors import ArchiveError, Canceled
from services.provisioner.operations.runtime import platforms, scheduler, state
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.progress import Progress


def build_version(
    deps: RuntimeDeps, rt: AppRuntime, version: int, archive: str, progress: Progress
) -> Release:
    """``version`` of the app built from ``archive`` where ``rt``'s spec runs it: on a
    docker node, on the platform's image, made present on the node first."""
    node = scheduler.build_node(deps, rt)
    base = platforms.platform_image(deps, rt.spec) if node else ""
    if base:
        platforms.ensure_image(deps, node, base, progress.write, cancel=progress.cancel)
    request = BuildRequest(
        app=rt.app,
        version=version,
        platform=rt.spec.platform,
        platform_image=base,
        archive_path=archive,
        env=dict(rt.spec.env),
        node=node,
    )
    try:
        return deps.backend.build(request, progress.write, progress.cancel)
    except BackendCanceled:
        raise Canceled() from None


def rebuild(
    deps: RuntimeDeps,
    rt: AppRuntime,
    release: VersionRelease,
    progress: Progress,
    *,
    remedy: str = "deploy the app again",
) -> VersionRelease:
    """``release`` built again, from its kept archive, where ``rt`` (its spec) runs it;
    without the archive, an error telling the caller's ``remedy``."""
    if not release.archive or not os.path.isfile(release.archive):
        raise ArchiveError(
            f"the archive of version {release.version} is not kept any more: {remedy}"
        )
    progress.write(f"\n---- Building image for version {release.version} ----\n")
    built = build_version(deps, rt, release.version, release.archive, progress)
    return replace(
        release,
        reference=built.image,
        processes=dict(built.processes),
        hooks=built.hooks,
        healthcheck=built.healthcheck,
        custom_data=dict(built.custom_data),
        provisioner=scheduler.provisioner_of(deps, rt),
    )


def stale(deps: RuntimeDeps, rt: AppRuntime, version: int) -> bool:
    """Whether another provisioner than the app's built ``version``."""
    release = rt.releases.get(version)
    if release is None or not release.provisioner:
        return False
    return release.provisioner != scheduler.provisioner_of(deps, rt)


def built_here(
    deps: RuntimeDeps, rt: AppRuntime, version: int, progress: Progress
) -> VersionRelease:
    """The release of ``version`` as the app's provisioner runs it: built again once from
    its kept archive (and saved) when another provisioner built it."""
    if not stale(deps, rt, version):
        return rt.release(version)
    rebuilt = rebuild(deps, rt, rt.release(version), progress)
    rt.releases[version] = rebuilt
    state.save(deps, rt)
    return rebuilt
