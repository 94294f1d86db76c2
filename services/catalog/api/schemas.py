"""Request bodies decoded as a whole (tsuru's ParseInput routes), and the fields other
routes read one by one, declared for the OpenAPI document. Response shapes are in
``responses.py``.

Form keys follow tsuru's decoder: Go field names matched case-insensitively
(``planname``, ``teamowner``), nested with dots (``parameters.size=10``,
``endpoints.cluster1=http://...``), lists with indices (``tags.0=a``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from shared.golang.strconv import NumError, parse_bool
from shared.http.fields import GoBool


class LenientBool(fields.Boolean):
    """A bool tsuru parses and ignores the error of: anything unparsable is false."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        try:
            return parse_bool(str(value))
        except NumError:
            return False


class ServiceInput(Schema):
    id = fields.String(load_default="")
    username = fields.String(load_default="")
    password = fields.String(load_default="")
    endpoints = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)
    endpoint = fields.String(load_default="")
    team = fields.String(load_default="")
    multi_cluster = LenientBool(data_key="multi-cluster", load_default=False)
    disable_bind_unit = LenientBool(data_key="disable-bind-unit", load_default=False)


class InstanceInput(Schema):
    name = fields.String(load_default="")
    plan = fields.String(load_default="", metadata={"description": "compat: planname"})
    planname = fields.String(load_default=None)
    plan_name = fields.String(load_default=None)
    owner = fields.String(load_default="", metadata={"description": "compat: teamowner"})
    teamowner = fields.String(load_default=None)
    team_owner = fields.String(load_default=None)
    description = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=None)
    tag = fields.List(fields.String(), load_default=None, metadata={"description": "compat"})
    pool = fields.String(load_default="")
    parameters = fields.Dict(keys=fields.String(), load_default=None)


class InstanceUpdateInput(Schema):
    description = fields.String(load_default="")
    plan = fields.String(load_default="")
    teamowner = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=None)
    tag = fields.List(fields.String(), load_default=None, metadata={"description": "compat"})
    parameters = fields.Dict(keys=fields.String(), load_default=None)


class InstanceRemoveQuery(Schema):
    unbindall = fields.String(metadata={"description": "bool: unbind every app first"})
    ignoreerrors = fields.String(metadata={"description": "bool: go on if the API fails"})


class BindInput(Schema):
    noRestart = GoBool(load_default=False)  # noqa: N815 (tsuru's key)
    parameters = fields.Dict(keys=fields.String(), load_default=None)


class UnbindQuery(Schema):
    noRestart = fields.String(metadata={"description": "bool"})  # noqa: N815
    force = fields.String(metadata={"description": "bool: ignore the API's refusal"})


class DocInput(Schema):
    doc = fields.String()


class PlansQuery(Schema):
    pool = fields.String(metadata={"description": "multi-cluster services only"})


class InstancesQuery(Schema):
    app = fields.String(metadata={"description": "only the instances bound to this app"})


class ProxyQuery(Schema):
    callback = fields.String(metadata={"description": "the path on the service API"})


class BasicAuthInput(Schema):
    Username = fields.String(load_default="")
    Password = fields.String(load_default="")


class BearerInput(Schema):
    Token = fields.String(load_default="")


class AuthConfigInput(Schema):
    BasicAuthConfig = fields.Nested(BasicAuthInput, load_default=None, allow_none=True)
    BearerConfig = fields.Nested(BearerInput, load_default=None, allow_none=True)


class BrokerConfigInput(Schema):
    AuthConfig = fields.Nested(AuthConfigInput, load_default=None, allow_none=True)
    Insecure = GoBool(load_default=False)
    Context = fields.Dict(keys=fields.String(), load_default=None, allow_none=True)
    CacheExpirationSeconds = fields.Integer(load_default=0, strict=False)


class BrokerInput(Schema):
    Name = fields.String(load_default="")
    URL = fields.String(load_default="")
    Config = fields.Nested(BrokerConfigInput, load_default=None, allow_none=True)
