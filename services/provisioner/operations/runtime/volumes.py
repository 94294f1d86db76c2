"""The volumes bound to an app (the catalogue's binds), as mounts of its units."""

from __future__ import annotations

from services.provisioner.backends.base import Mount
from services.provisioner.operations.runtime.deps import RuntimeDeps


def mounts_of(deps: RuntimeDeps, app: str) -> tuple[Mount, ...]:
    if deps.catalogue is None or deps.volume_dirs is None:
        return ()
    binds = deps.catalogue.volumes.binds_of_app(app)
    return tuple(
        Mount(deps.volume_dirs.source(b.id.volume), b.id.mountpoint, b.readonly)
        for b in sorted(binds, key=lambda b: b.id.mountpoint)
    )
