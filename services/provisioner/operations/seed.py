"""What a fresh stack holds before anyone configures it (once per stack).

tsuru's installer leaves a fresh install with one public default pool named
``theonepool``; tsuru itself seeds 22 plans (provisioning.md §2b). We add the
``python`` and ``static`` platforms the process backend prepares for, so
``tsuru app-create x python`` works right after the first start.
"""

from __future__ import annotations

from services.provisioner.domain import errors
from services.provisioner.domain.models import TEAM, Constraint, Plan, Platform, Pool
from services.provisioner.operations.deps import Deps

SEED = "catalogue-v1"
DEFAULT_POOL = "theonepool"
DEFAULT_PLAN = "c0.1m0.2"
PLATFORMS = ("python", "static")

_MI = 1024 * 1024
_GI = 1024 * _MI

# (name, millicores, memory) in tsuru's definition order.
PLANS: tuple[tuple[str, int, int], ...] = (
    ("c0.1m0.1", 100, 128 * _MI), ("c0.1m0.2", 100, 256 * _MI), ("c0.3m0.5", 300, 512 * _MI),
    ("c0.5m1", 500, _GI), ("c1m2", 1000, 2 * _GI), ("c2m4", 2000, 4 * _GI),
    ("c4m8", 4000, 8 * _GI), ("c8m16", 8000, 16 * _GI), ("c1m1", 1000, _GI),
    ("c2m2", 2000, 2 * _GI), ("c4m4", 4000, 4 * _GI), ("c8m8", 8000, 8 * _GI),
    ("c16m16", 16000, 16 * _GI), ("c2m1", 2000, _GI), ("c4m2", 4000, 2 * _GI),
    ("c8m4", 8000, 4 * _GI), ("c16m8", 16000, 8 * _GI), ("c0.3m1", 300, _GI),
    ("c0.5m2", 500, 2 * _GI), ("c1m4", 1000, 4 * _GI), ("c2m8", 2000, 8 * _GI),
    ("c4m16", 4000, 16 * _GI),
)  # fmt: skip


def seed_catalogue(deps: Deps) -> None:
    """Idempotent and safe to run from several processes at once: each item is an
    insert that a duplicate leaves alone; the mark is written last, so a start that
    died halfway seeds the rest next time."""
    stores = deps.stores
    if stores.seeds.done(SEED):
        return
    for name, milli, memory in PLANS:
        try:
            stores.plans.add(
                Plan(name, memory=memory, cpumilli=milli, default=name == DEFAULT_PLAN)
            )
        except errors.PlanExists:
            pass
    try:
        stores.pools.add(Pool(DEFAULT_POOL))
    except errors.PoolExists:
        pass
    try:
        stores.pools.claim_default(DEFAULT_POOL, force=False)
    except errors.DefaultPoolExists:
        pass
    if stores.constraints.get(DEFAULT_POOL, TEAM) is None:
        stores.constraints.set(Constraint(DEFAULT_POOL, TEAM, ("*",)))
    for platform in PLATFORMS:
        try:
            stores.platforms.add(Platform(platform))
        except errors.PlatformExists:
            pass
    stores.seeds.mark(SEED)
