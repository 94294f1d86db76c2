"""The JSON bodies of the catalogue routes, built from the operations' results with
tsuru's keys and casing (``responses.py`` describes them)."""

from __future__ import annotations

from typing import Any

from services.provisioner.domain.models import CONSTRAINT_FIELDS, TEAM, Constraint, Plan, Platform
from services.provisioner.domain.pools import PoolView
from services.provisioner.operations.placement import Placement
from services.provisioner.operations.routers import RouterView


def _nullable(names: list[str]) -> list[str] | None:
    return list(names) or None  # Go marshals an empty (nil) slice as null


def pool_json(view: PoolView) -> dict[str, Any]:
    # Go marshals the map with its keys sorted; json_response keeps this order.
    allowed = {f: _nullable(view.allowed[f]) for f in sorted(CONSTRAINT_FIELDS)}
    return {
        "allowed": allowed,
        "default": view.pool.default,
        "labels": dict(view.pool.labels),
        "name": view.pool.name,
        "provisioner": view.pool.provisioner,
        "public": view.public,
        "teams": _nullable(view.allowed[TEAM]),
    }


def constraint_json(c: Constraint) -> dict[str, Any]:
    return {"PoolExpr": c.pool_expr, "Field": c.field, "Values": list(c.values),
            "Blacklist": c.blacklist}  # fmt: skip


def plan_json(plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": plan.name,
        "memory": plan.memory,
        "swap": plan.swap,
        "cpushare": plan.cpushare,
        "cpumilli": plan.cpumilli,
    }
    if plan.default:
        out["default"] = True
    out["override"] = {"memory": None, "cpumilli": None}
    return out


def platform_json(platform: Platform) -> dict[str, Any]:
    return {"Name": platform.name, "Disabled": platform.disabled}


def router_json(r: RouterView) -> dict[str, Any]:
    return {
        "name": r.name,
        "type": r.type,
        "info": r.info,
        "config": r.config,
        "readinessGates": r.readiness_gates,
        "dynamic": r.dynamic,
        "default": r.default,
    }


def plan_spec(plan: Plan) -> dict[str, Any]:
    """A plan as the apps context keeps it with the app (docs/runtime.md AppSpec)."""
    return {"name": plan.name, "memory": plan.memory, "swap": plan.swap,
            "cpumilli": plan.cpumilli, "cpushare": plan.cpushare}  # fmt: skip


def placement_json(p: Placement) -> dict[str, Any]:
    return {
        "pool": p.pool.name,
        "provisioner": p.provisioner,
        "cluster": p.cluster,
        "plan": plan_spec(p.plan),
        "routers": p.routers,
        "platform": p.platform,
        "platform_version": p.platform_version,
        "platform_disabled": p.platform_disabled,
    }
