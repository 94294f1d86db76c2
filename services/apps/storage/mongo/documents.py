"""How an app is stored (collection ``apps``): one document per app, ``_id`` its name.

Env vars are a sub-document keyed by name (names match ``^[a-zA-Z][-_a-zA-Z0-9]*$``,
so they are safe keys) so one variable is set or unset atomically.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.apps.domain.models import (
    ZERO_TIME,
    App,
    AppRouter,
    EnvVar,
    Metadata,
    MetadataItem,
    Plan,
    ServiceEnv,
)
from shared.golang.times import utc


def env_doc(env: EnvVar) -> dict[str, Any]:
    return {
        "name": env.name,
        "value": env.value,
        "alias": env.alias,
        "public": env.public,
        "managed_by": env.managed_by,
    }


def env_from(d: dict[str, Any]) -> EnvVar:
    return EnvVar(
        name=d["name"],
        value=d.get("value", ""),
        alias=d.get("alias", ""),
        public=bool(d.get("public", True)),
        managed_by=d.get("managed_by", ""),
    )


def service_env_doc(env: ServiceEnv) -> dict[str, Any]:
    return {"name": env.name, "value": env.value, "service": env.service, "instance": env.instance}


def service_env_from(d: dict[str, Any]) -> ServiceEnv:
    return ServiceEnv(d["name"], d.get("value", ""), d.get("service", ""), d.get("instance", ""))


def _items(raw: list[dict[str, Any]] | None) -> list[MetadataItem]:
    return [MetadataItem(str(i.get("name", "")), str(i.get("value", ""))) for i in raw or []]


def metadata_doc(m: Metadata) -> dict[str, Any]:
    return {
        "labels": [{"name": i.name, "value": i.value} for i in m.labels],
        "annotations": [{"name": i.name, "value": i.value} for i in m.annotations],
    }


def router_doc(r: AppRouter) -> dict[str, Any]:
    return {"name": r.name, "opts": dict(r.opts), "type": r.type}


def field_value(attr: str, value: Any) -> Any:
    """The stored form of one updatable attribute."""
    if attr == "plan":
        return value.to_json()
    if attr == "metadata":
        return metadata_doc(value)
    if attr == "tags":
        return list(value)
    return value


def to_doc(app: App) -> dict[str, Any]:
    return {
        "_id": app.name,
        "seq": app.seq,
        "pool": app.pool,
        "team_owner": app.team_owner,
        "teams": list(app.teams),
        "owner": app.owner,
        "platform": app.platform,
        "platform_version": app.platform_version,
        "plan": app.plan.to_json(),
        "description": app.description,
        "tags": list(app.tags),
        "metadata": metadata_doc(app.metadata),
        "routers": [router_doc(r) for r in app.routers],
        "cnames": list(app.cnames),
        "env": {name: env_doc(e) for name, e in app.env.items()},
        "service_envs": [service_env_doc(e) for e in app.service_envs],
        "quota_limit": app.quota_limit,
        "deploys": app.deploys,
        "update_platform": app.update_platform,
        "swapped_with": app.swapped_with,
        "provisioner": app.provisioner,
        "cluster": app.cluster,
        "created_at": app.created_at,
    }


def from_doc(d: dict[str, Any], *, listed: bool = False) -> App:
    """The stored app; ``listed``: as a listing reads it, its env and service envs left
    empty (no list shows them; building them was most of a deployed app's decoding).
    Left out here rather than by a projection: SecantusDB spends twice the CPU on a
    projected find of the whole collection than on the plain one."""
    meta = d.get("metadata") or {}
    created = d.get("created_at")
    return App(
        name=d["_id"],
        seq=float(d.get("seq", 0.0)),
        pool=d.get("pool", ""),
        team_owner=d.get("team_owner", ""),
        teams=list(d.get("teams") or []),
        owner=d.get("owner", ""),
        platform=d.get("platform", ""),
        platform_version=d.get("platform_version", ""),
        plan=Plan.from_json(d.get("plan")),
        description=d.get("description", ""),
        tags=list(d.get("tags") or []),
        metadata=Metadata(_items(meta.get("labels")), _items(meta.get("annotations"))),
        routers=[
            AppRouter(r["name"], dict(r.get("opts") or {}), r.get("type", ""))
            for r in d.get("routers") or []
        ],
        cnames=list(d.get("cnames") or []),
        env={} if listed else {k: env_from(v) for k, v in (d.get("env") or {}).items()},
        service_envs=[] if listed else [service_env_from(e) for e in d.get("service_envs") or []],
        quota_limit=int(d.get("quota_limit", -1)),
        deploys=int(d.get("deploys", 0)),
        update_platform=bool(d.get("update_platform", False)),
        swapped_with=d.get("swapped_with", ""),
        provisioner=d.get("provisioner", ""),
        cluster=d.get("cluster", ""),
        created_at=utc(created) if isinstance(created, datetime) else ZERO_TIME,
    )
