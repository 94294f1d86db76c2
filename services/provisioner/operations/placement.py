"""Where an app may live: the pool, plan, routers and platform rules of tsuru's app
creation and update (apps.md §2.3), answered to the apps context
(``POST /internal/placement``, docs/runtime.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.models import PLAN, ROUTER, TEAM, Constraint, Plan, Pool
from services.provisioner.domain.pools import allowed_values
from services.provisioner.domain.rules import effective, filter_allowed
from services.provisioner.operations.deps import Deps
from services.provisioner.operations.names import names, router_names

NONE = "none"  # tsuru's router name for "no router at all"


@dataclass(frozen=True)
class PlacementRequest:
    team_owner: str = ""
    pool: str = ""
    plan: str = ""
    router: str = ""
    routeropts: dict[str, str] = field(default_factory=dict)
    platform: str = ""  # name or name:version
    # The app's current routers, when validating a change (no default is chosen then).
    routers: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Placement:
    pool: Pool
    provisioner: str
    cluster: str
    plan: Plan
    routers: list[dict[str, Any]]
    platform: str
    platform_version: str
    platform_disabled: bool


def _platform(deps: Deps, raw: str) -> tuple[str, str, bool]:
    if not raw:
        return "", "", False
    name, _, version = raw.partition(":")
    found = deps.stores.platforms.get(name)
    if found is None:
        raise errors.InvalidPlatform()
    if version and version != "latest":
        wanted = version.removeprefix("v")
        if not wanted.isdigit() or found.version(int(wanted)) is None:
            raise errors.PlatformImageNotFound()
    return found.name, version, found.disabled


def _pool(deps: Deps, req: PlacementRequest, constraints: list[Constraint]) -> Pool:
    stores = deps.stores
    if req.pool:
        pool = stores.pools.get(req.pool)
        if pool is None:
            raise errors.UnknownPool()
        return pool
    pools = stores.pools.all()
    # tsuru's ListPoolsForTeam: the exact-name team constraint names the team itself.
    mine = [p for p in pools if _names_team(constraints, p.name, req.team_owner)]
    if len(mine) > 1:
        public = [p for p in pools if _names_team(constraints, p.name, "*")]
        raise errors.ChoosePool([p.name for p in mine + public])
    if mine:
        return mine[0]
    default = stores.pools.default_name()
    pool = stores.pools.get(default) if default else None
    if pool is None:
        raise errors.UnknownPool()
    return pool


def _names_team(constraints: list[Constraint], pool: str, team: str) -> bool:
    c = effective(constraints, pool, TEAM)
    if c is None or c.pool_expr != pool:
        return False
    return (team in c.values) != c.blacklist


def _default_plan(deps: Deps, pool: str, constraints: list[Constraint]) -> Plan:
    """tsuru's Pool.GetDefaultPlan."""
    default = deps.stores.plans.default()
    c = effective(constraints, pool, PLAN)
    if c is None or not c.values:
        if default is None:
            raise errors.NoDefaultPlan()
        return default
    if c.blacklist or "*" in c.values[0]:
        allowed = filter_allowed(c, [p.name for p in deps.stores.plans.all()])
        chosen = deps.stores.plans.get(allowed[0]) if allowed else default
    else:
        chosen = deps.stores.plans.get(c.values[0]) or default
    if chosen is None:
        raise errors.NoDefaultPlan()
    return chosen


def default_router(deps: Deps, pool: str, constraints: list[Constraint]) -> str:
    """tsuru's Pool.GetDefaultRouter, then router.Default."""
    c = effective(constraints, pool, ROUTER)
    all_names = router_names(deps)
    if c is not None and c.values:
        if c.blacklist or "*" in c.values[0]:
            allowed = filter_allowed(c, all_names)
            if len(allowed) == 1:
                return allowed[0]
        elif c.values[0] in all_names:
            return c.values[0]
    if len(all_names) == 1:
        return all_names[0]
    flagged = [r.name for r in deps.config.routers if r.default]
    if not flagged:
        raise errors.NoDefaultRouter()
    return flagged[0]


def _cluster(deps: Deps, pool: str, provisioner: str) -> str:
    clusters = [c for c in deps.stores.clusters.all() if c.provisioner == provisioner]
    for c in clusters:
        if pool in c.pools:
            return c.name
    return next((c.name for c in clusters if c.default), "")


def place(deps: Deps, req: PlacementRequest) -> Placement:
    stores = deps.stores
    constraints = stores.constraints.all()
    platform, version, disabled = _platform(deps, req.platform)
    pool = _pool(deps, req, constraints)
    world = names(deps)
    if req.team_owner:
        if req.team_owner not in world.of(TEAM):
            raise errors.TeamNotFound()
        if req.team_owner not in allowed_values(constraints, pool.name, world)[TEAM]:
            raise errors.TeamNotInPool(req.team_owner, pool.name)
    if req.plan:
        plan = stores.plans.get(req.plan)
        if plan is None:
            raise errors.UnknownPlan()
    else:
        plan = _default_plan(deps, pool.name, constraints)
    routers = _routers(deps, req, pool.name, constraints)
    allowed = allowed_values(constraints, pool.name, world)
    if routers:
        available = allowed[ROUTER]
        if not available:
            raise errors.NoRouterInPool()
        for r in routers:
            if r["name"] not in available:
                raise errors.RouterNotInPool(r["name"], pool.name, available)
    if not allowed[PLAN]:
        raise errors.NoPlanInPool()
    if plan.name not in allowed[PLAN]:
        raise errors.PlanNotInPool(plan.name, pool.name)
    provisioner = pool.provisioner or deps.config.default_provisioner
    return Placement(
        pool=pool,
        provisioner=provisioner,
        cluster=_cluster(deps, pool.name, provisioner),
        plan=plan,
        routers=routers,
        platform=platform,
        platform_version=version,
        platform_disabled=disabled,
    )


def router_type(deps: Deps, name: str) -> str:
    builtin = next((r for r in deps.config.routers if r.name == name), None)
    if builtin is not None:
        return builtin.type
    dynamic = deps.stores.routers.get(name)
    return dynamic.type if dynamic is not None else ""


def _routers(
    deps: Deps, req: PlacementRequest, pool: str, constraints: list[Constraint]
) -> list[dict[str, Any]]:
    if req.routers is not None:
        given = [(str(r.get("name", "")), dict(r.get("opts") or {})) for r in req.routers]
    elif req.router == NONE:
        given = []
    elif req.router:
        if req.router not in router_names(deps):
            raise errors.UnknownRouter(req.router)
        given = [(req.router, dict(req.routeropts))]
    else:
        given = [(default_router(deps, pool, constraints), dict(req.routeropts))]
    return [{"name": n, "opts": o, "type": router_type(deps, n)} for n, o in given]
