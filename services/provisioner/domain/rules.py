"""Rules of the catalogue that need no storage: names, globs, effective constraints
(provisioning.md §2a)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from services.provisioner.domain.models import Constraint

_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")


def valid_name(name: str) -> bool:
    """tsuru's name rule for pools, platforms, clusters, volumes: a lower-case letter,
    then at most 39 lower-case letters, digits or dashes."""
    return _NAME.fullmatch(name) is not None


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    # "*" matches any sequence; every other character is literal; anchored both ends.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def glob_match(pattern: str, value: str) -> bool:
    return _glob(pattern).fullmatch(value) is not None


def effective(constraints: Iterable[Constraint], pool: str, field: str) -> Constraint | None:
    """The one constraint of ``field`` applied to ``pool``: among those whose expression
    matches the pool name, the longest expression, then the one with fewer ``*``."""
    best: Constraint | None = None
    for c in constraints:
        if c.field != field or not glob_match(c.pool_expr, pool):
            continue
        if best is None or _rank(c) > _rank(best):
            best = c
    return best


def _rank(c: Constraint) -> tuple[int, int]:
    return len(c.pool_expr), -c.pool_expr.count("*")


def allows(constraint: Constraint | None, value: str) -> bool:
    """Whether ``value`` passes the constraint (no constraint: everything passes)."""
    if constraint is None:
        return True
    hit = any(glob_match(p, value) for p in constraint.values)
    return hit != constraint.blacklist


def filter_allowed(constraint: Constraint | None, names: Iterable[str]) -> list[str]:
    return [n for n in names if allows(constraint, n)]


def allows_all(constraint: Constraint | None) -> bool:
    """tsuru's AllowsAll: a whitelist holding the literal value ``*``."""
    return constraint is not None and not constraint.blacklist and "*" in constraint.values


def exact(constraints: Iterable[Constraint], pool: str, field: str) -> Constraint | None:
    """The constraint whose expression is exactly the pool's name."""
    return next((c for c in constraints if c.pool_expr == pool and c.field == field), None)


def parse_quantity(raw: str) -> int:
    """tsuru's plan sizes: bytes, or a number with K/M/G (binary) or Ki/Mi/Gi; 0 when
    it does not parse."""
    raw = raw.strip()
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|K|M|G)?", raw)
    if m is None:
        return 0
    unit = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[(m.group(2) or "").rstrip("i")]
    value = int(m.group(1)) * unit
    return value if value < 2**63 else 0
