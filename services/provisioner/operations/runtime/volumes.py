"""The volumes bound to an app (the catalogue's binds), as mounts of its units."""

from __future__ import annotations

from services.provisioner.backends.base import Mount
from services.provisioner.operations.runtime.deps import RuntimeDeps, VolumeDirs
from services.provisioner.storage.ports import Stores


def mounts_for(catalogue: Stores | None, dirs: VolumeDirs | None, app: str) -> tuple[Mount, ...]:
    if catalogue is None or dirs is None:
        return ()
    binds = catalogue.volumes.binds_of_app(app)
    return tuple(
        Mount(dirs.source(b.id.volume), b.id.mountpoint, b.readonly)
        for b in sorted(binds, key=lambda b: b.id.mountpoint)
    )


def mounts_of(deps: RuntimeDeps, app: str) -> tuple[Mount, ...]:
    return mounts_for(deps.catalogue, deps.volume_dirs, app)
