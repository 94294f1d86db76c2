"""Request bodies of the catalogue routes (decoded with shared.http.parse_input: keys
matched case-insensitively as Go decodes, forms nested with dots and indices)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load

from shared.http.fields import GoBool


class GoSchema(Schema):
    """Go leaves a field at its zero value when the body says ``null``."""

    @pre_load
    def _drop_nulls(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if v is not None and v != [None]}


class StringMap(fields.Dict):
    """A ``map[string]string``: JSON scalars are printed, nested values refused."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.String(), **kw)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError("expected an object of strings")
        out = {}
        for k, v in value.items():
            if isinstance(v, dict | list):
                raise ValidationError(f"{k}: expected a string")
            out[str(k)] = v if isinstance(v, str) else ("" if v is None else str(v))
        return out


class PoolCreate(GoSchema):
    name = fields.String(load_default="")
    public = GoBool(load_default=False)
    default = GoBool(load_default=False)
    force = GoBool(load_default=False)
    provisioner = fields.String(load_default="")
    labels = StringMap(load_default=None, allow_none=True)


class PoolUpdate(GoSchema):
    default = GoBool(load_default=None, allow_none=True)
    public = GoBool(load_default=None, allow_none=True)
    force = GoBool(load_default=False)
    labels = StringMap(load_default=None, allow_none=True)


class PoolTeams(Schema):
    team = fields.List(fields.String(), metadata={"description": "repeatable"})


class TeamsQuery(Schema):
    team = fields.List(fields.String(), metadata={"description": "repeatable"})


class ConstraintInput(GoSchema):
    PoolExpr = fields.String(load_default="")
    Field = fields.String(load_default="")
    Values = fields.List(fields.String(), load_default=list)
    Blacklist = GoBool(load_default=False)


class PlanInput(Schema):
    name = fields.String()
    memory = fields.String(metadata={"description": "bytes, or with K/M/G (binary)"})
    swap = fields.String()
    cpumilli = fields.String()
    cpushare = fields.String()
    default = fields.String()


class PlatformAdd(Schema):
    name = fields.String()
    dockerfile_content = fields.String(metadata={"format": "binary"})


class PlatformUpdate(Schema):
    dockerfile_content = fields.String(metadata={"format": "binary"})
    disabled = fields.String(metadata={"description": "true or false"})


class PlatformRollback(Schema):
    image = fields.String(metadata={"description": "a version number or <name>:v<N>"})


class RouterInput(GoSchema):
    name = fields.String(load_default="")
    type = fields.String(load_default="")
    readinessGates = fields.List(fields.String(), load_default=list)
    config = fields.Dict(load_default=dict)


class PlacementInput(Schema):
    team_owner = fields.String(load_default="")
    pool = fields.String(load_default="")
    plan = fields.String(load_default="")
    router = fields.String(load_default="")
    routeropts = StringMap(load_default=dict)
    platform = fields.String(load_default="")
    routers = fields.List(fields.Dict(), load_default=None, allow_none=True)


class ServiceNames(Schema):
    services = fields.List(fields.String(), load_default=list)


class TeamNames(Schema):
    teams = fields.List(fields.String(), load_default=None, allow_none=True)
