"""The JSON shapes of the catalog routes (catalog.md §a, §b, §d), built from what the
operations return. tsuru's casing is kept: lower-case tags on its models, Go field
names where tsuru marshals plain structs (info, plans, brokers). Go sorts map keys."""

from __future__ import annotations

from typing import Any

from services.catalog.domain.models import Broker, BrokerData, Plan, ServiceInstance
from services.catalog.operations.instances import InstanceInfo
from services.catalog.operations.listing import InstanceSummary, ServiceEntry

MASK = "*****"


def _sorted(m: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if m is None else {k: m[k] for k in sorted(m)}


def broker_data_json(b: BrokerData) -> dict[str, Any]:
    return {
        "UUID": b.uuid,
        "ServiceID": b.service_id,
        "PlanID": b.plan_id,
        "OrgID": b.org_id,
        "SpaceID": b.space_id,
        "LastOperationKey": b.last_operation_key,
        "Binds": {
            app: {"UUID": x.uuid, "OperationKey": x.operation_key, "Parameters": x.parameters}
            for app, x in sorted(b.binds.items())
        }
        if b.binds
        else None,
    }


def instance_json(i: ServiceInstance) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": i.name,
        "id": i.id,
        "service_name": i.service_name,
        "plan_name": i.plan_name,
        "apps": list(i.apps),
        "bound_units": [{"app_name": u.app_name, "id": u.id, "ip": u.ip} for u in i.bound_units],
        "teams": list(i.teams),
        "team_owner": i.team_owner,
        "description": i.description,
        "tags": list(i.tags),
    }
    if i.parameters:
        out["parameters"] = _sorted(i.parameters)
    if i.pool:
        out["pool"] = i.pool
    if i.broker_data is not None:
        out["broker_data"] = broker_data_json(i.broker_data)
    return out


def summary_json(i: ServiceInstance) -> dict[str, Any]:
    """GET /services loads only name, service and tags: the rest are Go's zero values."""
    return {
        "name": i.name,
        "id": 0,
        "service_name": i.service_name,
        "plan_name": "",
        "apps": None,
        "bound_units": None,
        "teams": None,
        "team_owner": "",
        "description": "",
        "tags": list(i.tags),
    }


def service_entry_json(e: ServiceEntry) -> dict[str, Any]:
    if e.with_plans:
        found = e.instances or []
        return {
            "service": e.service,
            "instances": [i.name for i in found],
            "plans": [i.plan_name for i in found] if found else None,
            "service_instances": [instance_json(i) for i in found] if found else None,
        }
    return {
        "service": e.service,
        "instances": [i.name for i in e.instances] if e.instances else None,
        "plans": None,
        "service_instances": [summary_json(i) for i in e.instances] if e.instances else None,
    }


def service_info_json(found: list[InstanceSummary]) -> list[dict[str, Any]] | None:
    if not found:
        return None
    return [
        {
            "Id": s.instance.id,
            "Name": s.instance.name,
            "Pool": s.instance.pool,
            "Teams": list(s.instance.teams),
            "PlanName": s.instance.plan_name,
            "Apps": list(s.instance.apps),
            "ServiceName": s.instance.service_name,
            "Info": _sorted(s.info),
            "TeamOwner": s.instance.team_owner,
        }
        for s in found
    ]


def instance_info_json(info: InstanceInfo) -> dict[str, Any]:
    i = info.instance
    return {
        "Apps": list(i.apps),
        "Teams": list(i.teams),
        "TeamOwner": i.team_owner,
        "Description": i.description,
        "PlanName": info.plan_name,
        "PlanDescription": info.plan_description,
        "Pool": i.pool,
        "CustomInfo": _sorted(info.custom_info),
        "Tags": list(i.tags),
        "Parameters": _sorted(i.parameters),
    }


def plans_json(plans: list[Plan] | None) -> list[dict[str, Any]] | None:
    if plans is None:
        return None
    out = []
    for p in plans:
        item: dict[str, Any] = {"Name": p.name, "Description": p.description}
        if p.schemas is not None:
            item["Schemas"] = p.schemas
        out.append(item)
    return out


def broker_json(b: Broker) -> dict[str, Any]:
    """tsuru shows brokers' passwords and tokens in clear; Tsubame masks them."""
    auth = b.config.auth
    auth_json: dict[str, Any] | None = None
    if auth is not None:
        auth_json = {
            "BasicAuthConfig": None
            if auth.basic_username is None
            else {"Username": auth.basic_username, "Password": MASK if auth.basic_password else ""},
            "BearerConfig": None
            if auth.bearer_token is None
            else {"Token": MASK if auth.bearer_token else ""},
        }
    return {
        "Name": b.name,
        "URL": b.url,
        "Config": {
            "AuthConfig": auth_json,
            "Insecure": b.config.insecure,
            "Context": _sorted(b.config.context) if b.config.context else None,
            "CacheExpirationSeconds": b.config.cache_expiration_seconds,
        },
    }
