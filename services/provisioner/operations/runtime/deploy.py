"""The ``deploy`` command: fetch the archive, build the version, start its units, wait
for their healthcheck, route them, retire the old ones (docs/runtime.md "Deploy details").

Resumable: run again with the same ``version`` (a redelivered command after a worker
died) it reuses the release already built, starts afresh the units a dead attempt left
unrouted, and finishes a switch that already happened.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime import (
    STARTED,
    AppRuntime,
    Group,
    VersionRelease,
    counts_for_deploy,
    image_name,
)
from services.provisioner.domain.runtime_errors import (
    ArchiveError,
    ImagesUnsupported,
    InvalidCommand,
)
from services.provisioner.operations.runtime import rollout, scheduler, state, unitset
from services.provisioner.operations.runtime.builds import build_version, built_here
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.progress import Progress

KINDS = ("upload", "uploadbuild", "archive-url", "image", "rebuild", "rollback", "git")


@dataclass(frozen=True)
class DeployArgs:
    version: int
    kind: str
    archive_url: str = ""
    image: str = ""
    build_only: bool = False
    tag: str = ""
    from_version: int = 0
    new_version: bool = False
    override_versions: bool = False

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> DeployArgs:
        version = args.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version <= 0:
            raise InvalidCommand("deploy: version must be a positive integer")
        kind = args.get("kind") or "archive-url"
        if kind not in KINDS:
            raise InvalidCommand(f"deploy: unknown kind {kind!r}")
        from_version = args.get("from_version") or 0
        if isinstance(from_version, bool) or not isinstance(from_version, int):
            raise InvalidCommand("deploy: from_version must be an integer")
        strings = {k: args.get(k) or "" for k in ("archive_url", "image", "tag")}
        if not all(isinstance(v, str) for v in strings.values()):
            raise InvalidCommand("deploy: archive_url, image and tag must be strings")
        return cls(
            version=version,
            kind=kind,
            build_only=bool(args.get("build_only")),
            from_version=from_version,
            new_version=bool(args.get("new_version")),
            override_versions=bool(args.get("override_versions")),
            **strings,
        )


def result_of(release: VersionRelease, image: str | None = None) -> dict[str, Any]:
    return {
        "version": release.version,
        "image": image or release.image,
        "processes": dict(release.processes),
        "custom_data": dict(release.custom_data),
    }


def deploy(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], progress: Progress) -> dict:
    args = DeployArgs.parse(raw)
    if args.kind == "image" or args.image:
        raise ImagesUnsupported()
    rt = state.ensure(deps, spec)
    if args.kind == "rollback" or args.version in rt.releases:
        # Built by another provisioner (a pool move left it without units): again, once.
        release = built_here(deps, rt, args.version, progress)
    else:
        release = build(deps, rt, args, progress)
    if args.build_only:
        tag = image_name(rt.app, args.tag) if args.tag else release.image
        return result_of(release, tag)
    activate(deps, rt, release, args, progress)
    return result_of(release)


# -- building ---------------------------------------------------------------------------


def _archive_path(deps: RuntimeDeps, app: str, version: int) -> Path:
    return Path(deps.config.archives_dir) / app / f"v{version}.tar.gz"


def _source(deps: RuntimeDeps, rt: AppRuntime, args: DeployArgs, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}")
    try:
        if args.kind == "rebuild":
            source = rt.release(args.from_version or rt.latest_version()).archive
            if not source or not os.path.isfile(source):
                raise ArchiveError("the archive of the version to rebuild is not kept any more")
            shutil.copyfile(source, partial)
        else:
            if not args.archive_url:
                raise InvalidCommand("deploy: archive_url is required")
            deps.archives.fetch(args.archive_url, str(partial), deps.config.archive_max_bytes)
        os.replace(partial, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def build(
    deps: RuntimeDeps, rt: AppRuntime, args: DeployArgs, progress: Progress
) -> VersionRelease:
    archive = _archive_path(deps, rt.app, args.version)
    _source(deps, rt, args, archive)
    progress.check()
    progress.write("\n---- Building image ----\n")
    release = build_version(deps, rt, args.version, str(archive), progress)
    progress.write(" ---> Cleaning up\n")
    tag = args.tag if args.build_only and args.tag else f"v{args.version}"
    built = replace(
        VersionRelease.of(release, image_name(rt.app, tag), str(archive), deps.clock()),
        provisioner=scheduler.provisioner_of(deps, rt),
    )
    rt.releases[args.version] = built
    state.save(deps, rt)
    return built


# -- activating -------------------------------------------------------------------------


def activate(
    deps: RuntimeDeps, rt: AppRuntime, release: VersionRelease, args: DeployArgs, progress: Progress
) -> None:
    """Run ``release`` with no gap: its units up and healthy, then routed, then the
    versions it replaces retired."""
    version = release.version
    others = [g for g in rt.groups if g.version != version and not g.pending]
    replaced = set() if args.new_version else {g.version for g in others}
    live = [g for g in rt.groups_of(version=version) if not g.pending]
    if not live:
        _start_version(deps, rt, release, replaced or set(rt.routable), progress)
    progress.check()
    old_routable = list(rt.routable)
    if args.new_version and rt.routable:
        pass  # tsuru: a new version runs beside the others, unrouted until made routable
    else:
        rt.routable = [version]
    drop = [g for g in others if g.version in replaced or args.override_versions]
    rt.drop_groups(g.key for g in drop)
    state.save(deps, rt)
    before = deps.stores.units.of_app(rt.app)
    gone = {g.key for g in drop}
    old_units = [u for u in before if (u.process, u.version) in gone]
    new_web = [u for u in before if u.version == version and u.process == release.web]
    switched = unitset.sync_route(deps, rt)
    routed = new_web if version in rt.routable and version not in old_routable else []
    unrouted = [u for u in old_units if u.version in old_routable and u.version not in rt.routable]
    rollout.announce_routes(progress, routed, unrouted)
    if switched and old_units and deps.config.drain_seconds > 0:
        # The route no longer names them: give the gateways time to follow it.
        time.sleep(deps.config.drain_seconds)
    rollout.retire(deps, rt, old_units, progress, drained=True)


def _start_version(
    deps: RuntimeDeps,
    rt: AppRuntime,
    release: VersionRelease,
    replaced: set[int],
    progress: Progress,
) -> None:
    version = release.version
    attempt = uuid.uuid4().hex[:12]
    counts = counts_for_deploy(rt, release, replaced)
    for process, n in counts.items():
        rt.put_group(Group(process, version, n, STARTED, pending=attempt))
    state.save(deps, rt)
    # Units of this version a dead attempt left behind never served: start afresh.
    leftovers = [u for u in deps.stores.units.of_app(rt.app) if u.version == version]
    if leftovers:
        unitset.remove(deps, rt, leftovers, drain=False)
    try:
        rollout.start_new(
            deps, rt, {(p, version): n for p, n in counts.items()}, progress, "deploy"
        )
    except BaseException:
        rt.drop_groups((p, version) for p in counts)
        state.save(deps, rt)
        raise
    for process in counts:
        group = rt.group(process, version)
        if group is not None:
            rt.put_group(replace(group, pending=""))
    state.save(deps, rt)
