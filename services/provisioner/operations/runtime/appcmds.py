"""Commands on the app as a whole: ``run``, ``remove``, ``version.remove``, ``swap``,
``routes.rebuild`` and ``routable``."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from services.provisioner.backends.base import ExecRequest, Limits
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.routes import Route, route_for
from services.provisioner.domain.runtime import AppRuntime, VersionRelease
from services.provisioner.domain.runtime_errors import (
    ExitCode,
    InvalidCommand,
    InvalidVersion,
    NotAvailable,
    NoVersions,
)
from services.provisioner.domain.units import AVAILABLE
from services.provisioner.operations.runtime import builds, scheduler, state, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.progress import Progress
from services.provisioner.operations.runtime.unitcmds import version_arg
from services.provisioner.operations.runtime.volumes import mounts_of

RUN_SOURCE = "app-run"


def run(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    command = raw.get("command")
    if not isinstance(command, str) or not command.strip():
        raise InvalidCommand("You must provide the command to run")
    isolated, once = bool(raw.get("isolated")), bool(raw.get("once"))
    rt = state.ensure(deps, spec)
    units = [u for u in deps.stores.units.of_app(rt.app) if u.status in AVAILABLE]
    if not isolated and not units:
        raise NotAvailable()
    # tsuru's app-run: the app log gets "running '<cmd>'" and the output, source app-run.
    p.log_source = RUN_SOURCE
    deps.app_log.write(rt.app, RUN_SOURCE, "api", f"running '{command}'")
    plan = rt.spec.plan
    if isolated:
        if not rt.releases:
            raise NoVersions()
        latest = rt.latest_version() or max(rt.releases)
        # Built by another provisioner (a pool move since): built here first, as for units.
        targets: list[tuple[str, VersionRelease]] = [("", builds.built_here(deps, rt, latest, p))]
    else:
        chosen = units[:1] if once else units
        targets = [(u.id, rt.release(u.version)) for u in chosen]
    # An isolated run goes to a node of the app's pool ("" in a process pool).
    node = scheduler.build_node(deps, rt) if isolated else ""
    for unit, release in targets:
        request = ExecRequest(
            app=rt.app,
            command=command,
            env=dict(rt.spec.env),
            release=release.release(rt.app),
            unit=unit,
            limits=Limits(plan.memory, plan.swap, plan.cpumilli, plan.cpushare),
            mounts=mounts_of(deps, rt.app),
            node=node,
        )
        code = deps.backend.exec(request, p.write, p.cancel)
        if code != 0:
            raise ExitCode(code)
    return {"exit_code": 0}


def remove(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    """Everything of the app: route first (no traffic to dying units), units, releases,
    kept archives, autoscale, desired state. Each step tolerates what is already gone."""
    remove_app(deps, spec.name)
    return {}


def remove_app(deps: RuntimeDeps, app: str) -> None:
    unitset.drop_route(deps, app)
    units = deps.stores.units.of_app(app)
    for unit in units:
        deps.backend.remove_unit(unit.id)
        deps.stores.units.delete(unit.id)
    deps.backend.remove_app(app)
    if deps.config.archives_dir:
        shutil.rmtree(Path(deps.config.archives_dir) / app, ignore_errors=True)
    deps.stores.autoscale.delete_app(app)
    deps.stores.runtimes.delete(app)
    unitset.announce_units(deps, app, removed=units)


def version_remove(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    version = version_arg(raw)
    rt = state.ensure(deps, spec)
    if not version or version not in rt.releases:
        raise InvalidVersion(raw.get("version"))
    rt.drop_groups(g.key for g in rt.groups_of(version=version))
    rt.routable = [v for v in rt.routable if v != version]
    release = rt.releases.pop(version)
    state.save(deps, rt)  # desired first
    units = [u for u in deps.stores.units.of_app(rt.app) if u.version == version]
    unitset.remove(deps, rt, units)
    deps.backend.remove_release(rt.app, version)
    if release.archive:
        Path(release.archive).unlink(missing_ok=True)
    return {}


def swap(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    """Exchange the apps' addresses (unless ``cname_only``) and cnames in the route table."""
    other_spec = AppSpec.from_json(raw.get("other"))
    if other_spec.name == spec.name:
        raise InvalidCommand("swap: the apps must differ")
    cname_only = bool(raw.get("cname_only"))
    with AppLease(deps, other_spec.name):
        one, two = state.ensure(deps, spec), state.ensure(deps, other_spec)
        if not cname_only:
            one.address, two.address = two.address, one.address
        one.spec = replace(one.spec, cnames=other_spec.cnames)
        two.spec = replace(two.spec, cnames=spec.cnames)
        state.save(deps, one)
        state.save(deps, two)
        unitset.sync_route(deps, one)
        unitset.sync_route(deps, two)
    return {}


def routes_rebuild(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    """The app's route made again from its units; what it added and removed (``dry``:
    computed only)."""
    before = deps.stores.routes.get(spec.name) or Route(spec.name, (), ())
    if raw.get("dry"):
        current = deps.stores.runtimes.get(spec.name)
        rt = replace(current, spec=spec) if current else AppRuntime(spec.name, spec)
        after = route_for(rt, deps.stores.units.of_app(spec.name), deps.config.apps_domain)
    else:
        rt = state.ensure(deps, spec)
        unitset.sync_route(deps, rt)
        after = deps.stores.routes.get(spec.name) or Route(spec.name, (), ())
    return {
        "added": [f"http://{b}" for b in after.backends if b not in before.backends],
        "removed": [f"http://{b}" for b in before.backends if b not in after.backends],
    }


def routable(deps: RuntimeDeps, spec: AppSpec, raw: Mapping[str, Any], p: Progress) -> dict:
    """``POST /apps/{app}/routable``: a version gets (or stops getting) traffic."""
    version = version_arg(raw)
    rt = state.deployed(deps, spec)
    if version not in rt.active_versions():
        raise InvalidVersion(raw.get("version"))
    wanted = bool(raw.get("routable"))
    if wanted and version not in rt.routable:
        rt.routable = sorted([*rt.routable, version])
    elif not wanted:
        rt.routable = [v for v in rt.routable if v != version]
    state.save(deps, rt)
    unitset.sync_route(deps, rt)
    return {}
