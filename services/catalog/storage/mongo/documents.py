"""Records <-> MongoDB documents (tsuru's field names where tsuru stores them).

Values whose keys users or brokers choose (plan and bind parameters, a broker's
context, OSB catalogs with their ``$schema`` keys) are stored as JSON text: a key
starting with ``$`` or holding a dot is not a field name every server accepts.
"""

from __future__ import annotations

import json
from typing import Any

from services.catalog.domain.models import (
    BoundUnit,
    Broker,
    BrokerAuth,
    BrokerBind,
    BrokerConfig,
    BrokerData,
    Catalog,
    CatalogPlan,
    CatalogService,
    PendingOp,
    Service,
    ServiceInstance,
)

Doc = dict[str, Any]


def service_doc(s: Service) -> Doc:
    return {
        "_id": s.name,
        "username": s.username,
        "password": s.password,
        "endpoint": dict(s.endpoint),
        "owner_teams": list(s.owner_teams),
        "teams": list(s.teams),
        "doc": s.doc,
        "is_restricted": s.is_restricted,
        "is_multi_cluster": s.is_multi_cluster,
        "disable_bind_unit": s.disable_bind_unit,
    }


def service_from(d: Doc) -> Service:
    return Service(
        name=d["_id"],
        username=d.get("username") or "",
        password=d.get("password") or "",
        endpoint={str(k): str(v) for k, v in (d.get("endpoint") or {}).items()},
        owner_teams=list(d.get("owner_teams") or []),
        teams=list(d.get("teams") or []),
        doc=d.get("doc") or "",
        is_restricted=bool(d.get("is_restricted")),
        is_multi_cluster=bool(d.get("is_multi_cluster")),
        disable_bind_unit=bool(d.get("disable_bind_unit")),
    )


def unit_doc(u: BoundUnit) -> Doc:
    return {"app_name": u.app_name, "id": u.id, "ip": u.ip}


def broker_data_doc(b: BrokerData | None) -> Doc | None:
    if b is None:
        return None
    return {
        "uuid": b.uuid,
        "service_id": b.service_id,
        "plan_id": b.plan_id,
        "org_id": b.org_id,
        "space_id": b.space_id,
        "last_operation_key": b.last_operation_key,
        "binds": {
            app: {
                "uuid": x.uuid,
                "operation_key": x.operation_key,
                "parameters": json_text(x.parameters),
            }
            for app, x in b.binds.items()
        },
    }


def broker_data_from(d: Doc | None) -> BrokerData | None:
    if not d:
        return None
    return BrokerData(
        uuid=d.get("uuid", ""),
        service_id=d.get("service_id", ""),
        plan_id=d.get("plan_id", ""),
        org_id=d.get("org_id", ""),
        space_id=d.get("space_id", ""),
        last_operation_key=d.get("last_operation_key", ""),
        binds={
            app: BrokerBind(
                x.get("uuid", ""), x.get("operation_key", ""), from_json_text(x.get("parameters"))
            )
            for app, x in (d.get("binds") or {}).items()
        },
    )


def instance_id(service: str, name: str) -> str:
    # Instance names hold no "/" (their name rule), so the key splits one way only.
    return f"{service}/{name}"


def instance_doc(i: ServiceInstance) -> Doc:
    return {
        "_id": instance_id(i.service_name, i.name),
        "name": i.name,
        "service_name": i.service_name,
        "id": i.id,
        "plan_name": i.plan_name,
        "apps": list(i.apps),
        "bound_units": [unit_doc(u) for u in i.bound_units],
        "teams": list(i.teams),
        "team_owner": i.team_owner,
        "description": i.description,
        "tags": list(i.tags),
        "parameters": json_text(i.parameters),
        "pool": i.pool,
        "broker_data": broker_data_doc(i.broker_data),
        "pending": [pending_doc(op) for op in i.pending],
    }


def pending_doc(op: PendingOp) -> Doc:
    return {"op": op.op, "app": op.app, "event": op.event, "restart": op.restart}


def instance_from(d: Doc) -> ServiceInstance:
    return ServiceInstance(
        name=d["name"],
        service_name=d["service_name"],
        id=int(d.get("id") or 0),
        plan_name=d.get("plan_name") or "",
        apps=list(d.get("apps") or []),
        bound_units=[
            BoundUnit(u.get("app_name", ""), u.get("id", ""), u.get("ip", ""))
            for u in d.get("bound_units") or []
        ],
        teams=list(d.get("teams") or []),
        team_owner=d.get("team_owner") or "",
        description=d.get("description") or "",
        tags=list(d.get("tags") or []),
        parameters=from_json_text(d.get("parameters")) or {},
        pool=d.get("pool") or "",
        broker_data=broker_data_from(d.get("broker_data")),
        pending=[
            PendingOp(p.get("op", ""), p.get("app", ""), p.get("event", ""), bool(p.get("restart")))
            for p in d.get("pending") or []
        ],
    )


def broker_doc(b: Broker) -> Doc:
    auth = b.config.auth
    return {
        "name": b.name,
        "url": b.url,
        "config": {
            "auth": None
            if auth is None
            else {
                "basic_username": auth.basic_username,
                "basic_password": auth.basic_password,
                "bearer_token": auth.bearer_token,
            },
            "insecure": b.config.insecure,
            "context": json_text(b.config.context),
            "cache_expiration_seconds": b.config.cache_expiration_seconds,
        },
    }


def broker_from(d: Doc) -> Broker:
    c = d.get("config") or {}
    a = c.get("auth")
    auth = (
        None
        if a is None
        else BrokerAuth(
            a.get("basic_username"), a.get("basic_password") or "", a.get("bearer_token")
        )
    )
    config = BrokerConfig(
        auth=auth,
        insecure=bool(c.get("insecure")),
        context=from_json_text(c.get("context")) or {},
        cache_expiration_seconds=int(c.get("cache_expiration_seconds") or 0),
    )
    return Broker(d.get("name") or "", d.get("url") or "", config)


def catalog_doc(c: Catalog) -> str:
    return json.dumps(
        [
            {
                "id": s.id,
                "name": s.name,
                "description": s.description,
                "plans": [
                    {"id": p.id, "name": p.name, "description": p.description, "schemas": p.schemas}
                    for p in s.plans
                ],
            }
            for s in c.services
        ]
    )


def catalog_from(text: str) -> Catalog:
    raw: list[Doc] = from_json_text(text) or []
    return Catalog(
        tuple(
            CatalogService(
                s.get("id", ""),
                s.get("name", ""),
                s.get("description", ""),
                tuple(
                    CatalogPlan(
                        p.get("id", ""),
                        p.get("name", ""),
                        p.get("description", ""),
                        p.get("schemas"),
                    )
                    for p in s.get("plans") or []
                ),
            )
            for s in raw
        )
    )


def json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def from_json_text(text: Any) -> Any:
    if text is None or text == "":
        return None
    if not isinstance(text, str):  # written by hand as a document: take it as it is
        return text
    return json.loads(text)
