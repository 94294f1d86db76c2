"""What a pool shows (provisioning.md §2a): the names of every kind its constraints
allow, whether it is public, and the checks on its labels."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from services.provisioner.domain import errors
from services.provisioner.domain.models import CONSTRAINT_FIELDS, TEAM, Constraint, Pool
from services.provisioner.domain.rules import allows_all, effective, exact, filter_allowed

AFFINITY = "affinity"


@dataclass(frozen=True)
class PoolView:
    pool: Pool
    public: bool
    allowed: Mapping[str, list[str]]  # field -> allowed names (all fields present)


class Names:
    """The names of every kind a constraint filters, each fetched once (teams and
    services live in other contexts)."""

    def __init__(self, sources: Mapping[str, Callable[[], list[str]]]) -> None:
        self._sources = sources
        self._cache: dict[str, list[str]] = {}

    def of(self, field: str) -> list[str]:
        if field not in self._cache:
            self._cache[field] = list(self._sources[field]())
        return self._cache[field]


def allowed_values(
    constraints: Iterable[Constraint], pool: str, names: Names
) -> dict[str, list[str]]:
    """tsuru's allowedValues: for each field, every existing name the pool's effective
    constraint lets through (no constraint: all of them)."""
    listed = list(constraints)
    return {
        field: filter_allowed(effective(listed, pool, field), names.of(field))
        for field in CONSTRAINT_FIELDS
    }


def view(pool: Pool, constraints: Iterable[Constraint], names: Names) -> PoolView:
    listed = list(constraints)
    return PoolView(
        pool,
        allows_all(exact(listed, pool.name, TEAM)),
        allowed_values(listed, pool.name, names),
    )


def visible_to_teams(constraints: Iterable[Constraint], pool: str, teams: list[str]) -> bool:
    """tsuru's ListPossiblePools for one pool: its effective team constraint is the
    exact-name one and lets one of ``teams`` in (no teams: any exact constraint)."""
    c = effective(list(constraints), pool, TEAM)
    if c is None or c.pool_expr != pool:
        return False
    if not teams:
        return True
    return bool(filter_allowed(c, teams))


def validate_labels(labels: Mapping[str, str]) -> None:
    """``affinity`` holds a JSON-serialised scheduling affinity (an object)."""
    raw = labels.get(AFFINITY)
    if raw is None:
        return
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise errors.InvalidLabels(str(exc)) from exc
    if not isinstance(value, dict):
        raise errors.InvalidLabels("json: cannot unmarshal into Go value of type v1.Affinity")
