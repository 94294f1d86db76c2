"""Questions other contexts ask about the catalogue (docs/runtime.md "Synchronous
internal calls"): the catalog's pool lookups."""

from __future__ import annotations

from services.provisioner.domain import errors
from services.provisioner.domain.infra import Cluster
from services.provisioner.domain.models import SERVICE, Pool
from services.provisioner.domain.pools import visible_to_teams
from services.provisioner.domain.rules import effective, filter_allowed
from services.provisioner.operations.deps import Deps


def pool_with_cluster(deps: Deps, name: str) -> tuple[Pool, str, Cluster | None]:
    pool = deps.stores.pools.get(name)
    if pool is None:
        raise errors.PoolNotFound()
    provisioner = pool.provisioner or deps.config.default_provisioner
    clusters = [c for c in deps.stores.clusters.all() if c.provisioner == provisioner]
    cluster = next((c for c in clusters if name in c.pools), None) or next(
        (c for c in clusters if c.default), None
    )
    return pool, provisioner, cluster


def allowed_services(deps: Deps, pool: str, services: list[str]) -> list[str]:
    if deps.stores.pools.get(pool) is None:
        raise errors.PoolNotFound()
    constraint = effective(deps.stores.constraints.all(), pool, SERVICE)
    return filter_allowed(constraint, services)


def visible_pools(deps: Deps, teams: list[str] | None) -> list[str]:
    pools = deps.stores.pools.all()
    if teams is None:
        return sorted(p.name for p in pools)
    constraints = deps.stores.constraints.all()
    return sorted(p.name for p in pools if visible_to_teams(constraints, p.name, teams))
