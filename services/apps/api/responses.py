"""Response shapes of the apps core routes, for the OpenAPI document only.

The bodies are built by ``presenters.py`` and written by ``json_response``; these
schemas describe them with tsuru's keys and casing (``allow_none`` where Go writes
null) and the conformance test holds them to what the service sends.
"""

from __future__ import annotations

from marshmallow import Schema, fields


class Unit(Schema):
    """A tsuru unit (apps.md §1.3), as the provisioner answers it."""

    ID = fields.String(required=True)
    Name = fields.String()
    AppName = fields.String()
    ProcessName = fields.String()
    Type = fields.String()
    Status = fields.String()
    Address = fields.Dict(allow_none=True)
    Addresses = fields.List(fields.Dict(), allow_none=True)
    Version = fields.Integer()
    Routable = fields.Boolean()
    Restarts = fields.Integer(allow_none=True)
    CreatedAt = fields.String(allow_none=True)
    Ready = fields.Boolean(allow_none=True)
    HostAddr = fields.String()
    HostPort = fields.String()
    IP = fields.String()


class PlanOverride(Schema):
    memory = fields.Integer(required=True, allow_none=True)
    cpumilli = fields.Integer(required=True, allow_none=True)


class Plan(Schema):
    name = fields.String(required=True)
    memory = fields.Integer(required=True)
    swap = fields.Integer(required=True)
    cpushare = fields.Integer(required=True)
    cpumilli = fields.Integer(required=True)
    default = fields.Boolean()
    override = fields.Nested(PlanOverride, required=True)
    router = fields.String()


class AppRouter(Schema):
    name = fields.String(required=True)
    opts = fields.Dict(keys=fields.String(), values=fields.String(), required=True, allow_none=True)
    address = fields.String(required=True)
    addresses = fields.List(fields.String(), required=True, allow_none=True)
    type = fields.String(required=True)
    status = fields.String()
    status_detail = fields.String(data_key="status-detail")


class Lock(Schema):
    Locked = fields.Boolean(required=True)
    Reason = fields.String(required=True)
    Owner = fields.String(required=True)
    AcquireDate = fields.String(required=True)


class MetadataItem(Schema):
    name = fields.String(required=True)
    value = fields.String()


class Metadata(Schema):
    labels = fields.List(fields.Nested(MetadataItem), required=True, allow_none=True)
    annotations = fields.List(fields.Nested(MetadataItem), required=True, allow_none=True)


class Quota(Schema):
    limit = fields.Integer(required=True)
    inuse = fields.Integer(required=True)


class ServiceBind(Schema):
    service = fields.String(required=True)
    instance = fields.String(required=True)
    plan = fields.String(required=True)


class MiniApp(Schema):
    """An element of ``GET /apps``."""

    name = fields.String(required=True)
    pool = fields.String(required=True)
    teamowner = fields.String(required=True)
    plan = fields.Nested(Plan, required=True)
    units = fields.List(fields.Nested(Unit), required=True)
    cname = fields.List(fields.String(), required=True, allow_none=True)
    ip = fields.String(required=True)
    routers = fields.List(fields.Nested(AppRouter), required=True)
    lock = fields.Nested(Lock, required=True)
    tags = fields.List(fields.String(), required=True, allow_none=True)
    error = fields.String()
    platform = fields.String()
    description = fields.String()
    metadata = fields.Nested(Metadata, required=True)


class AppInfo(Schema):
    """``GET /apps/{app}``."""

    name = fields.String(required=True)
    platform = fields.String(required=True)
    provisioner = fields.String()
    cluster = fields.String()
    teams = fields.List(fields.String(), required=True, allow_none=True)
    units = fields.List(fields.Nested(Unit), required=True)
    ip = fields.String()
    router = fields.String()
    routeropts = fields.Dict(keys=fields.String(), values=fields.String())
    routers = fields.List(fields.Nested(AppRouter), required=True)
    cname = fields.List(fields.String(), required=True, allow_none=True)
    owner = fields.String(required=True)
    pool = fields.String(required=True)
    description = fields.String(required=True)
    deploys = fields.Integer(required=True)
    teamowner = fields.String(required=True)
    plan = fields.Nested(Plan, required=True)
    lock = fields.Nested(Lock, required=True)
    tags = fields.List(fields.String(), required=True, allow_none=True)
    metadata = fields.Nested(Metadata, required=True)
    quota = fields.Nested(Quota)
    serviceInstanceBinds = fields.List(fields.Nested(ServiceBind), required=True)
    error = fields.String()


class Created(Schema):
    status = fields.String(required=True)
    ip = fields.String()


class EnvVar(Schema):
    name = fields.String(required=True)
    value = fields.String(required=True)
    alias = fields.String(required=True)
    public = fields.Boolean(required=True)
    managedBy = fields.String()


class LogEntry(Schema):
    Date = fields.String(required=True)
    Message = fields.String(required=True)
    Source = fields.String(required=True)
    AppName = fields.String(required=True)
    Unit = fields.String(required=True)


STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
CERTIFICATES = {
    "type": "object",
    "description": "router name -> (app address or cname -> PEM certificate or empty)",
    "additionalProperties": STRING_MAP,
}
ROUTES_REBUILT = {
    "type": "object",
    "description": "router name -> {PrefixResults, Added, Removed}",
    "additionalProperties": {"type": "object"},
}
NAMES = {"type": "object", "properties": {"apps": {"type": "array", "items": {"type": "string"}}}}
