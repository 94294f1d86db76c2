"""The names a constraint filters, gathered from this context and the others."""

from __future__ import annotations

from services.provisioner.domain.models import PLAN, ROUTER, SERVICE, TEAM, VOLUME_PLAN
from services.provisioner.domain.pools import Names
from services.provisioner.operations.deps import Deps


def router_names(deps: Deps) -> list[str]:
    """Built-in and dynamic routers, sorted by name (tsuru's router.List)."""
    names = {r.name for r in deps.config.routers} | {r.name for r in deps.stores.routers.all()}
    return sorted(names)


def volume_plan_names(deps: Deps) -> list[str]:
    """Every configured volume plan, once per provisioner that has it (as tsuru)."""
    return [plan for plan, per_prov in deps.config.volume_plans.items() for _ in per_prov]


def names(deps: Deps) -> Names:
    return Names(
        {
            TEAM: deps.directory.team_names,
            SERVICE: deps.directory.service_names,
            ROUTER: lambda: router_names(deps),
            PLAN: lambda: [p.name for p in deps.stores.plans.all()],
            VOLUME_PLAN: lambda: volume_plan_names(deps),
        }
    )
