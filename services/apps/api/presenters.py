"""The JSON tsuru clients see of apps (apps.md §1), built from operation results.
``responses.py`` describes the same shapes for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from services.apps.domain.models import ZERO_TIME, App, AppRouter, Metadata, MetadataItem
from services.apps.operations.info import AppInfo
from services.apps.operations.listing import Listed
from shared.golang.times import rfc3339

LOCK = {"Locked": False, "Reason": "", "Owner": "", "AcquireDate": rfc3339(ZERO_TIME)}


def _items(items: list[MetadataItem]) -> list[dict[str, str]] | None:
    if not items:
        return None
    out = []
    for item in items:
        shown = {"name": item.name}
        if item.value:
            shown["value"] = item.value
        out.append(shown)
    return out


def metadata_json(m: Metadata) -> dict[str, Any]:
    return {"labels": _items(m.labels), "annotations": _items(m.annotations)}


def _override(app: App) -> dict[str, Any]:
    return {"memory": app.plan.override_memory, "cpumilli": app.plan.override_cpumilli}


def router_json(r: AppRouter, address: str, *, live: bool) -> dict[str, Any]:
    """An AppRouter: with ``live`` as ``GET /apps/{app}`` and ``/routers`` show it, else
    as the list shows it (cached address, no addresses, no type)."""
    return {
        "name": r.name,
        "opts": dict(r.opts),
        "address": address,
        "addresses": None,
        "type": r.type if live else "",
    }


def mini_app_json(item: Listed, domain: str, *, extended: bool) -> dict[str, Any]:
    """One element of ``GET /apps`` (apps.md §1.2), fields in tsuru's order."""
    app = item.app
    address = f"{app.swapped_with or app.name}.{domain}"
    plan: dict[str, Any] = {
        "name": app.plan.name,
        "memory": app.plan.memory,
        "swap": app.plan.swap,
        "cpushare": app.plan.cpushare,
        "cpumilli": app.plan.cpumilli,
    }
    if app.plan.default:
        plan["default"] = True
    plan["override"] = _override(app)
    out: dict[str, Any] = {
        "name": app.name,
        "pool": app.pool,
        "teamowner": app.team_owner,
        "plan": plan,
        "units": item.units,
        "cname": list(app.cnames) or None,
        "ip": address if app.routers else "",
        "routers": [router_json(r, address, live=False) for r in app.routers],
        "lock": dict(LOCK),
        "tags": list(app.tags) or None,
    }
    if item.error:
        out["error"] = item.error
    if extended and app.platform:
        out["platform"] = app.platform
    if extended and app.description:
        out["description"] = app.description
    out["metadata"] = metadata_json(app.metadata) if extended else {
        "labels": None, "annotations": None,
    }  # fmt: skip
    return out


def app_info_json(info: AppInfo) -> dict[str, Any]:
    """``GET /apps/{app}`` (apps.md §1.1): a map, so keys sorted as Go sorts them."""
    app = info.app
    plan: dict[str, Any] = {
        "name": app.plan.name,
        "memory": app.plan.memory,
        "swap": app.plan.swap,
        "cpushare": app.plan.cpushare,
        "cpumilli": app.plan.cpumilli,
        "override": _override(app),
    }
    out: dict[str, Any] = {
        "name": app.name,
        "platform": app.platform_label,
        "teams": list(app.teams) or None,
        "units": info.units,
        "cname": list(app.cnames) or None,
        "owner": app.owner,
        "pool": app.pool,
        "description": app.description,
        "deploys": app.deploys,
        "teamowner": app.team_owner,
        "plan": plan,
        "lock": dict(LOCK),
        "tags": list(app.tags) or None,
        "routers": [router_json(r, info.address, live=True) for r in app.routers],
        "metadata": metadata_json(app.metadata),
        "quota": {"limit": app.quota_limit, "inuse": info.inuse},
        "serviceInstanceBinds": [
            {"service": b["service"], "instance": b["instance"], "plan": b["plan"]}
            for b in info.binds
        ],
    }
    if app.provisioner:
        out["provisioner"] = app.provisioner
    if app.cluster:
        out["cluster"] = app.cluster
    if app.routers:
        first = app.routers[0]
        out["ip"] = info.address
        plan["router"] = first.name
        out["router"] = first.name
        out["routeropts"] = dict(first.opts)
    if info.errors:
        out["error"] = "\n".join(info.errors)
    out["plan"] = dict(sorted(plan.items()))
    return dict(sorted(out.items()))


def created_json(app: App, domain: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if app.routers:
        out["ip"] = f"{app.swapped_with or app.name}.{domain}"
    out["status"] = "success"
    return out
