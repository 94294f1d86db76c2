"""Inputs of the runtime's internal routes, for the OpenAPI document (the views read
their bodies themselves and refuse bad shapes with 400)."""

from __future__ import annotations

from marshmallow import Schema, fields


class AppsInput(Schema):
    apps = fields.List(fields.String(), required=True)


class StatusInput(Schema):
    status = fields.String(required=True)


class RegisterInput(Schema):
    hostname = fields.String(required=True)
    customdata = fields.Dict(allow_none=True)


class NodeStatusInput(Schema):
    Addrs = fields.List(fields.String())
    Units = fields.List(fields.Dict())
    Checks = fields.List(fields.Dict())


class AutoscaleInput(Schema):
    spec = fields.Dict(required=True)
    quota_limit = fields.Integer()
    plan = fields.Dict()


class ProcessQuery(Schema):
    process = fields.String()


class ShellQuery(Schema):
    unit = fields.String()
    isolated = fields.String()
    width = fields.String()
    height = fields.String()
    term = fields.String()
