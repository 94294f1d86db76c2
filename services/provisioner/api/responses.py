"""Response shapes of the catalogue routes, for the OpenAPI document only.

The bodies are built by ``presenters.py`` and written by ``json_response``; these
schemas describe them with tsuru's keys (``allow_none`` where Go marshals a nil slice
or map as null), and the conformance test holds them to what the service sends.
"""

from __future__ import annotations

from marshmallow import Schema, fields

NAMES = {"type": "array", "items": {"type": "string"}, "nullable": True}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _names() -> fields.List:
    return fields.List(fields.String(), required=True, allow_none=True)


class PoolAllowed(Schema):
    team = _names()
    router = _names()
    service = _names()
    plan = _names()
    volume_plan = fields.List(fields.String(), data_key="volume-plan", required=True,
                              allow_none=True)  # fmt: skip


class PoolInfo(Schema):
    allowed = fields.Nested(PoolAllowed, required=True)
    default = fields.Boolean(required=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         allow_none=True)  # fmt: skip
    name = fields.String(required=True)
    provisioner = fields.String(required=True)
    public = fields.Boolean(required=True)
    teams = _names()


class ConstraintInfo(Schema):
    PoolExpr = fields.String(required=True)
    Field = fields.String(required=True)
    Values = _names()
    Blacklist = fields.Boolean(required=True)


class PlanOverride(Schema):
    memory = fields.Integer(required=True, allow_none=True)
    cpumilli = fields.Integer(required=True, allow_none=True)


class PlanInfo(Schema):
    name = fields.String(required=True)
    memory = fields.Integer(required=True)
    swap = fields.Integer(required=True)
    cpushare = fields.Integer(required=True)
    cpumilli = fields.Integer(required=True)
    default = fields.Boolean(metadata={"description": "omitted when false"})
    override = fields.Nested(PlanOverride, required=True)


class PlatformInfo(Schema):
    Name = fields.String(required=True)
    Disabled = fields.Boolean(required=True)


class PlatformDetail(Schema):
    platform = fields.Nested(PlatformInfo, required=True)
    images = fields.List(fields.String(), required=True)


class RouterInfo(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True)
    info = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                       allow_none=True)  # fmt: skip
    config = fields.Dict(required=True, allow_none=True)
    readinessGates = _names()
    dynamic = fields.Boolean(required=True)
    default = fields.Boolean(required=True)


class PlacementPlan(Schema):
    name = fields.String(required=True)
    memory = fields.Integer(required=True)
    swap = fields.Integer(required=True)
    cpumilli = fields.Integer(required=True)
    cpushare = fields.Integer(required=True)


class PlacementRouter(Schema):
    name = fields.String(required=True)
    opts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    type = fields.String(required=True)


class PlacementAnswer(Schema):
    pool = fields.String(required=True)
    provisioner = fields.String(required=True)
    cluster = fields.String(required=True)
    plan = fields.Nested(PlacementPlan, required=True)
    routers = fields.List(fields.Nested(PlacementRouter), required=True)
    platform = fields.String(required=True)
    platform_version = fields.String(required=True)
    platform_disabled = fields.Boolean(required=True)


class PoolCluster(Schema):
    name = fields.String(required=True)
    provisioner = fields.String(required=True)
    addresses = fields.List(fields.String(), required=True)


class InternalPool(Schema):
    name = fields.String(required=True)
    provisioner = fields.String(required=True)
    cluster = fields.Nested(PoolCluster, required=True, allow_none=True)


class AllowedNames(Schema):
    allowed = fields.List(fields.String(), required=True)


class PoolNames(Schema):
    pools = fields.List(fields.String(), required=True)
