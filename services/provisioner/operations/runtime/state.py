"""Loading and saving an app's desired state (under its lease)."""

from __future__ import annotations

from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.runtime_errors import LeaseLost, NoVersions
from services.provisioner.operations.runtime.deps import RuntimeDeps


def save(deps: RuntimeDeps, rt: AppRuntime) -> None:
    """Store ``rt``; a revision conflict means another worker wrote meanwhile, which only
    happens when this one lost its lease: stop."""
    if not deps.stores.runtimes.save(rt):
        raise LeaseLost(rt.app)


def ensure(deps: RuntimeDeps, spec: AppSpec) -> AppRuntime:
    """The app's runtime with ``spec`` as its latest spec (made on its first command)."""
    rt = deps.stores.runtimes.get(spec.name)
    if rt is None:
        deps.stores.runtimes.create(AppRuntime(app=spec.name, spec=spec))
        rt = deps.stores.runtimes.get(spec.name)
        assert rt is not None
    if rt.spec != spec:
        rt.spec = spec
        save(deps, rt)
    return rt


def deployed(deps: RuntimeDeps, spec: AppSpec) -> AppRuntime:
    """For operations on units: the runtime, which must have a deployed version."""
    rt = ensure(deps, spec)
    if not rt.active_versions():
        raise NoVersions()
    return rt
