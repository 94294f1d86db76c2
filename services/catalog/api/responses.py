"""Response shapes of the catalog routes, for the OpenAPI document only.

The bodies are built by ``presenters.py`` and written by ``json_response``; these
schemas describe them with tsuru's keys and casing (``allow_none`` where Go writes
null) and the conformance run holds them to what the service sends.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from shared.http import list_of

STRINGS = fields.List(fields.String(), required=True, allow_none=True)


class BoundUnit(Schema):
    app_name = fields.String(required=True)
    id = fields.String(required=True)
    ip = fields.String(required=True)


class BrokerBind(Schema):
    UUID = fields.String(required=True)
    OperationKey = fields.String(required=True)
    Parameters = fields.Dict(required=True, allow_none=True)


class BrokerData(Schema):
    UUID = fields.String(required=True)
    ServiceID = fields.String(required=True)
    PlanID = fields.String(required=True)
    OrgID = fields.String(required=True)
    SpaceID = fields.String(required=True)
    LastOperationKey = fields.String(required=True)
    Binds = fields.Dict(
        keys=fields.String(), values=fields.Nested(BrokerBind), required=True, allow_none=True
    )


class Instance(Schema):
    name = fields.String(required=True)
    id = fields.Integer(required=True)
    service_name = fields.String(required=True)
    plan_name = fields.String(required=True)
    apps = fields.List(fields.String(), required=True, allow_none=True)
    bound_units = fields.List(fields.Nested(BoundUnit), required=True, allow_none=True)
    teams = fields.List(fields.String(), required=True, allow_none=True)
    team_owner = fields.String(required=True)
    description = fields.String(required=True)
    tags = fields.List(fields.String(), required=True, allow_none=True)
    parameters = fields.Dict()
    pool = fields.String()
    broker_data = fields.Nested(BrokerData)


class ServiceModel(Schema):
    service = fields.String(required=True)
    instances = fields.List(fields.String(), required=True, allow_none=True)
    plans = fields.List(fields.String(), required=True, allow_none=True)
    service_instances = fields.List(fields.Nested(Instance), required=True, allow_none=True)


class InstanceInfo(Schema):
    Apps = fields.List(fields.String(), required=True, allow_none=True)
    Teams = fields.List(fields.String(), required=True, allow_none=True)
    TeamOwner = fields.String(required=True)
    Description = fields.String(required=True)
    PlanName = fields.String(required=True)
    PlanDescription = fields.String(required=True)
    Pool = fields.String(required=True)
    CustomInfo = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    Tags = fields.List(fields.String(), required=True, allow_none=True)
    Parameters = fields.Dict(required=True, allow_none=True)


class Plan(Schema):
    Name = fields.String(required=True)
    Description = fields.String(required=True)
    Schemas = fields.Raw()


PLANS = list_of(Plan, nullable=True)
SERVICE_LIST = list_of(ServiceModel)
BINDS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {k: {"type": "string"} for k in ("service", "instance", "plan")},
    },
}
TEAM_USAGE = {
    "type": "object",
    "properties": {"service_instances": {"type": "array", "items": {"type": "string"}}},
}
SERVICE_NAMES = {
    "type": "object",
    "properties": {"services": {"type": "array", "items": {"type": "string"}}},
}
