"""Pools and pool constraints (provisioning.md §3.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.models import CONSTRAINT_FIELDS, TEAM, Constraint, Pool
from services.provisioner.domain.pools import PoolView, validate_labels, view, visible_to_teams
from services.provisioner.domain.rules import allows, allows_all, exact, valid_name
from services.provisioner.operations.deps import Deps
from services.provisioner.operations.names import names
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize, mutation
from shared.permissions import ensure, scope


@dataclass(frozen=True)
class NewPool:
    name: str
    public: bool = False
    default: bool = False
    force: bool = False
    provisioner: str = ""
    labels: dict[str, str] | None = None


@dataclass(frozen=True)
class PoolChange:
    default: bool | None = None
    public: bool | None = None
    force: bool = False
    labels: dict[str, str] | None = None


def _existing(deps: Deps, name: str) -> Pool:
    pool = deps.stores.pools.get(name)
    if pool is None:
        raise errors.PoolNotFound()
    return pool


def get_pool(deps: Deps, identity: Identity, name: str) -> PoolView:
    ensure(identity, "pool.read", [("pool", name)])
    pool = _existing(deps, name)
    return view(pool, deps.stores.constraints.all(), names(deps))


def list_pools(deps: Deps, identity: Identity) -> list[PoolView]:
    """Pools the caller may create apps in or read (tsuru's poolList)."""
    ctxs = scope(identity, "app.create") + scope(identity, "pool.read")
    everything = any(t == "global" for t, _ in ctxs)
    teams = [v for t, v in ctxs if t == "team"]
    named = [v for t, v in ctxs if t == "pool"]
    pools = deps.stores.pools.all()
    constraints = deps.stores.constraints.all()
    if everything:
        chosen = pools
    else:
        if teams:
            team_matched = [p for p in pools if visible_to_teams(constraints, p.name, teams)]
        else:
            # tsuru lists every pool with an exact team constraint, private ones and
            # their teams included, to a caller with no team context: only public ones.
            team_matched = [p for p in pools if allows_all(exact(constraints, p.name, TEAM))]
        by_name = {p.name: p for p in pools}
        chosen = team_matched + [by_name[n] for n in named if n in by_name]
    seen: set[str] = set()
    shown = []
    for p in chosen:
        if p.name not in seen:
            seen.add(p.name)
            shown.append(p)
    if not shown:
        return []
    world = names(deps)
    return [view(p, constraints, world) for p in shown]


def create_pool(deps: Deps, identity: Identity, new: NewPool, fields: Any) -> None:
    ensure(identity, "pool.create")
    if not new.name:
        raise errors.PoolNameRequired()
    with mutation(deps, identity, "pool.create", target=Target("pool", new.name),
                  custom_data=fields):  # fmt: skip
        if not valid_name(new.name):
            raise errors.InvalidPoolName()
        labels = dict(new.labels or {})
        validate_labels(labels)
        stores = deps.stores
        current = stores.pools.default_name()
        if new.default and current not in (None, new.name) and not new.force:
            raise errors.DefaultPoolExists()
        if new.default and new.force and current is not None:
            # tsuru 1.11 takes the flag from the old default before the insert.
            stores.pools.release_default(current)
        stores.pools.add(Pool(new.name, provisioner=new.provisioner, labels=labels))
        if new.default:
            try:
                stores.pools.claim_default(new.name, force=new.force)
            except errors.DefaultPoolExists:
                stores.pools.delete(new.name)  # another default won the race
                raise
        if new.public or new.default:
            stores.constraints.set(Constraint(new.name, TEAM, ("*",)))


def delete_pool(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    # tsuru 1.11 checks pool.delete without the pool's context: only a global grant.
    permit = authorize(identity, "pool.delete")
    if deps.apps.pool_apps(name):
        raise errors.PoolHasApps()
    with permit.record(deps.recorder, target=Target("pool", name), custom_data=fields):
        if not deps.stores.pools.delete(name):
            raise errors.PoolNotFound()


def add_teams(deps: Deps, identity: Identity, name: str, teams: list[str], fields: Any) -> None:
    with mutation(deps, identity, "pool.update.team.add", target=Target("pool", name),
                  contexts=[("pool", name)], custom_data=fields):  # fmt: skip
        if not teams:
            raise errors.TeamRequired()
        pool = _existing(deps, name)
        constraint = deps.stores.constraints.get(name, TEAM)
        if constraint is not None and constraint.blacklist:
            raise errors.BlacklistTeamsAdd()
        if allows_all(constraint) or pool.default:
            raise errors.PublicPoolTeams()
        if constraint is not None and any(allows(constraint, t) for t in teams):
            raise errors.TeamAlreadyInPool()
        deps.stores.constraints.append(name, TEAM, teams)


def remove_teams(deps: Deps, identity: Identity, name: str, teams: list[str], fields: Any) -> None:
    with mutation(deps, identity, "pool.update.team.remove", target=Target("pool", name),
                  contexts=[("pool", name)], custom_data=fields):  # fmt: skip
        if not teams:
            raise errors.TeamRequiredToRemove()
        _existing(deps, name)
        constraint = deps.stores.constraints.get(name, TEAM)
        if constraint is not None and constraint.blacklist:
            raise errors.BlacklistTeamsRemove()
        if not deps.stores.constraints.remove_values(name, TEAM, teams):
            raise errors.NoTeamConstraint()


def update_pool(deps: Deps, identity: Identity, name: str, change: PoolChange, fields: Any) -> None:
    # tsuru 1.11 checks pool.update without the pool's context: only a global grant.
    with mutation(deps, identity, "pool.update", target=Target("pool", name),
                  custom_data=fields):  # fmt: skip
        stores = deps.stores
        _existing(deps, name)
        if change.default:
            current = stores.pools.default_name()
            if current not in (None, name) and not change.force:
                raise errors.DefaultPoolExists()
        if change.labels:
            validate_labels(change.labels)
        if change.default:
            stores.pools.claim_default(name, force=change.force)
        elif change.default is False:
            stores.pools.release_default(name)
        if change.labels is not None:
            stores.pools.set_labels(name, change.labels)
        if change.public or change.default:
            stores.constraints.set(Constraint(name, TEAM, ("*",)))
        if change.public is False or change.default is False:
            stores.constraints.remove_values(name, TEAM, ["*"])


def list_constraints(deps: Deps, identity: Identity) -> list[Constraint]:
    ensure(identity, "pool.read.constraints")
    return deps.stores.constraints.all()


def set_constraint(
    deps: Deps, identity: Identity, constraint: Constraint, append: bool, fields: Any
) -> None:
    permit = authorize(identity, "pool.update.constraints.set")
    if not constraint.pool_expr:
        raise errors.PoolExpressionRequired()
    target = Target("pool", constraint.pool_expr)
    with permit.record(deps.recorder, target=target, custom_data=fields):
        if constraint.field not in CONSTRAINT_FIELDS:
            raise errors.InvalidConstraintType()
        if append:
            deps.stores.constraints.append(
                constraint.pool_expr, constraint.field, list(constraint.values)
            )
        else:
            deps.stores.constraints.set(constraint)
