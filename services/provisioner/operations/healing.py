"""Node healing config and history (provisioning.md §3.5).

Nothing heals nodes here: the process provisioner's one node is the machine itself and no
IaaS can replace a docker node, and units are restarted by their backend (not recreated
by a healer). The config is kept as tsuru keeps it and the history lists what a healer
recorded (``stores.healing.add_event``).
"""

from __future__ import annotations

from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.infra import HEALING_FIELDS, HealingConfig, HealingEvent
from services.provisioner.operations.deps import Deps
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure, scope

FILTERS = {"": "", "node": "node-healing", "container": "container-healing"}


def healing_info(deps: Deps, identity: Identity) -> dict[str, dict[str, Any]]:
    ctxs = scope(identity, "healing.read")
    if not ctxs:
        ensure(identity, "healing.read")
    every = any(t == "global" for t, _ in ctxs)
    pools = {v for t, v in ctxs if t == "pool"}
    configs = deps.stores.healing.configs()
    base = configs.get("", HealingConfig())
    out = {"": _entry(base, base, inherited=False)}
    for pool, entry in configs.items():
        if pool and (every or pool in pools):
            out[pool] = _entry(entry, base, inherited=True)
    return out


def _entry(entry: HealingConfig, base: HealingConfig, *, inherited: bool) -> dict[str, Any]:
    values = (entry.enabled, entry.max_time_since_success, entry.max_unresponsive_time)
    defaults = (base.enabled, base.max_time_since_success, base.max_unresponsive_time)
    out: dict[str, Any] = {}
    for field, value, default in zip(HEALING_FIELDS, values, defaults, strict=True):
        out[field] = value if value is not None or not inherited else default
    for field, value in zip(HEALING_FIELDS, values, strict=True):
        out[f"{field}Inherited"] = inherited and value is None
    return out


def _contexts(pool: str) -> list[tuple[str, str]]:
    return [("pool", pool)] if pool else []


def update_healing(
    deps: Deps, identity: Identity, pool: str, changes: dict[str, object], fields: Any
) -> None:
    permit = authorize(identity, "healing.update", _contexts(pool))
    with permit.record(deps.recorder, target=Target("pool", pool), custom_data=fields,
                       lock=False):  # fmt: skip
        deps.stores.healing.merge(pool, changes)


def remove_healing(
    deps: Deps, identity: Identity, pool: str, names: list[str], fields: Any
) -> None:
    permit = authorize(identity, "healing.delete", _contexts(pool))
    with permit.record(deps.recorder, target=Target("pool", pool), custom_data=fields,
                       lock=False):  # fmt: skip
        if not names:
            if not deps.stores.healing.delete(pool):
                raise errors.HealingNotFound()
            return
        wanted = {n.lower() for n in names}
        deps.stores.healing.unset(pool, [f for f in HEALING_FIELDS if f.lower() in wanted])


def healing_history(deps: Deps, identity: Identity, kind: str) -> list[HealingEvent]:
    ensure(identity, "healing.read")
    if kind not in FILTERS:
        raise errors.InvalidHealingFilter()
    return deps.stores.healing.events(FILTERS[kind], 100)
