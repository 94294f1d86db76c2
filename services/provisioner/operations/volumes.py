"""Volumes, volume plans and binds (provisioning.md §2f, §3.7).

Volume plans come from the configuration (``Config.volume_plans``: plan ->
provisioner -> opts). Binds are this context's data; the runtime mounts the bound
volumes into the app's units (``stores.volumes.binds_of_app``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.infra import BindID, Volume, VolumeBind
from services.provisioner.domain.models import VOLUME_PLAN
from services.provisioner.domain.pools import allowed_values
from services.provisioner.domain.rules import valid_name
from services.provisioner.operations.deps import AppRef, Body, Deps, Writer
from services.provisioner.operations.names import names
from shared.events import Target
from shared.identity import Identity
from shared.mutation import Permit, authorize
from shared.permissions import Context, ensure_any, scope


@dataclass(frozen=True)
class VolumeInput:
    name: str
    pool: str
    team_owner: str
    plan: str
    opts: dict[str, str] | None


def contexts(v: Volume) -> list[Context]:
    return [("volume", v.name), ("team", v.team_owner), ("pool", v.pool)]


def _existing(deps: Deps, name: str) -> Volume:
    volume = deps.stores.volumes.get(name)
    if volume is None:
        raise errors.VolumeNotFound()
    return volume


def list_volumes(deps: Deps, identity: Identity) -> list[tuple[Volume, list[VolumeBind]]]:
    ctxs = scope(identity, "volume.read")
    if not ctxs:
        return []
    everything = any(t == "global" for t, _ in ctxs)
    out = []
    for v in deps.stores.volumes.all():
        if everything or any(c in ctxs for c in contexts(v)):
            out.append((v, deps.stores.volumes.binds(v.name)))
    return out


def volume_info(deps: Deps, identity: Identity, name: str) -> tuple[Volume, list[VolumeBind]]:
    volume = _existing(deps, name)
    permit_read(identity, volume)
    return volume, deps.stores.volumes.binds(name)


def permit_read(identity: Identity, volume: Volume) -> None:
    authorize(identity, "volume.read", contexts(volume))


def volume_plans(deps: Deps, identity: Identity) -> dict[str, list[dict[str, Any]]]:
    """tsuru asks for ``volume.create`` in any context before listing the plans."""
    if not scope(identity, "volume.create"):
        ensure_any(identity, ["volume.create"])
    out: dict[str, list[dict[str, Any]]] = {}
    for plan, per_prov in deps.config.volume_plans.items():
        for prov, opts in per_prov.items():
            out.setdefault(prov, []).append({"Name": plan, "Opts": dict(opts)})
    return out


def _validate(deps: Deps, data: VolumeInput) -> dict[str, str]:
    """tsuru's volume validation; returns the plan's opts for the pool's provisioner."""
    if not data.name:
        raise errors.VolumeInvalid("volume name cannot be empty")
    if not valid_name(data.name):
        raise errors.VolumeInvalid(
            "Invalid volume name, volume name should have at most 40 characters, containing "
            "only lower case letters, numbers or dashes, starting with a letter."
        )
    if data.team_owner not in deps.directory.team_names():
        raise errors.VolumeInvalid("team not found")
    pool = deps.stores.pools.get(data.pool)
    if pool is None:
        raise errors.VolumeInvalid("Pool does not exist.")
    provisioner = pool.provisioner or deps.config.default_provisioner
    opts = deps.config.volume_plans.get(data.plan, {}).get(provisioner)
    if opts is None:
        raise errors.VolumeInvalid(f'key "volume-plans:{data.plan}:{provisioner}" not found')
    return dict(opts)


def _pool_allows_plan(deps: Deps, pool: str, plan: str) -> None:
    if deps.stores.pools.get(pool) is None:
        raise errors.VolumeInvalid("Pool does not exist.")
    allowed = allowed_values(deps.stores.constraints.all(), pool, names(deps))[VOLUME_PLAN]
    if not allowed:
        raise errors.VolumeInvalid("no volume-plan found for pool")
    if plan not in allowed:
        raise errors.VolumeInvalid("volume-plan not present in pool constraint")


def create_volume(deps: Deps, identity: Identity, data: VolumeInput, fields: Any) -> None:
    permit = authorize(identity, "volume.create", [("team", data.team_owner), ("pool", data.pool)])
    _pool_allows_plan(deps, data.pool, data.plan)
    volume = Volume(data.name, data.pool, data.team_owner, data.plan, {}, data.opts)
    with permit.record(deps.recorder, target=Target("volume", data.name), custom_data=fields,
                       visible_in=contexts(volume)):  # fmt: skip
        if deps.stores.volumes.get(data.name) is not None:
            raise errors.VolumeExists()
        volume.plan_opts = _validate(deps, data)
        deps.stores.volumes.add(volume)


def update_volume(
    deps: Deps, identity: Identity, name: str, data: VolumeInput, fields: Any
) -> None:
    current = _existing(deps, name)
    permit = authorize(identity, "volume.update", contexts(current))
    with permit.record(deps.recorder, target=Target("volume", name), custom_data=fields):
        data = VolumeInput(name, data.pool, data.team_owner, data.plan, data.opts)
        opts = _validate(deps, data)
        volume = Volume(name, data.pool, data.team_owner, data.plan, opts, data.opts)
        if not deps.stores.volumes.replace(volume):
            raise errors.VolumeNotFound()


def delete_volume(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    volume = _existing(deps, name)
    permit = authorize(identity, "volume.delete", contexts(volume))
    with permit.record(deps.recorder, target=Target("volume", name), custom_data=fields):
        if deps.stores.volumes.binds(name):
            raise errors.VolumeHasBinds()
        if not deps.stores.volumes.delete(name):
            raise errors.VolumeNotFound()


def _app(deps: Deps, name: str) -> AppRef:
    app = deps.apps.app(name)
    if app is None:
        raise errors.AppNotFoundForVolume(name)
    return app


def _bind_permits(
    deps: Deps, identity: Identity, name: str, app_name: str, scheme: str, app_scheme: str
) -> tuple[Volume, AppRef, Permit]:
    volume = _existing(deps, name)
    authorize(identity, scheme, contexts(volume))
    app = _app(deps, app_name)
    permit = authorize(identity, app_scheme, app.contexts())
    return volume, app, Permit(scheme, permit.owner, tuple(contexts(volume)))


def bind_volume(
    deps: Deps,
    identity: Identity,
    name: str,
    app_name: str,
    mountpoint: str,
    readonly: bool,
    no_restart: bool,
    fields: Any,
) -> Body | None:
    """Returns the restart to stream, or None with ``no_restart``."""
    _, app, permit = _bind_permits(
        deps, identity, name, app_name, "volume.update.bind", "app.update.bind-volume"
    )
    with permit.record(deps.recorder, target=Target("volume", name), custom_data=fields):
        deps.stores.volumes.bind(VolumeBind(BindID(app.name, mountpoint, name), readonly))
    return None if no_restart else _restart(deps, app.name)


def unbind_volume(
    deps: Deps,
    identity: Identity,
    name: str,
    app_name: str,
    mountpoint: str,
    no_restart: bool,
    fields: Any,
) -> Body | None:
    _, app, permit = _bind_permits(
        deps, identity, name, app_name, "volume.update.unbind", "app.update.unbind-volume"
    )
    with permit.record(deps.recorder, target=Target("volume", name), custom_data=fields):
        if not deps.stores.volumes.unbind(BindID(app.name, mountpoint, name)):
            raise errors.VolumeBindNotFound()
    return None if no_restart else _restart(deps, app.name)


def _restart(deps: Deps, app: str) -> Body:
    def body(out: Writer) -> None:
        # tsuru 1.11 streams the restart after the bind's event ended: a failed
        # restart is an error line, the bind stays.
        deps.restarter.restart(app, out)

    return body
