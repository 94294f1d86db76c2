"""Request bodies of the apps core routes decoded as a whole (tsuru's struct-decoding
routes: ``parse_input``), and the fields other routes read one by one, declared for the
OpenAPI document. Response shapes are in ``responses.py``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from shared.http.fields import GoBool


class Text(fields.Field):
    """A string as Go's decoder fills a string field: JSON numbers and bools are
    refused like tsuru refuses them; form values are strings already."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if isinstance(value, list):  # a repeated form field: Go keeps the first
            value = value[0] if value else ""
        if not isinstance(value, str):
            raise ValidationError("Not a valid string.")
        return value


class StringMap(fields.Field):
    """``routeropts.k=v`` form keys or a JSON object of strings."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, str]:
        if value in ("", None):
            return {}
        if not isinstance(value, dict):
            raise ValidationError("Not a valid mapping.")
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, list):
                v = v[0] if v else ""
            if not isinstance(v, str):
                raise ValidationError("Not a valid string.")
            out[str(k)] = v
        return out


class MetadataItemInput(Schema):
    name = Text(load_default="")
    value = Text(load_default="")
    delete = GoBool(load_default=False)


class MetadataInput(Schema):
    labels = fields.List(fields.Nested(MetadataItemInput), load_default=list)
    annotations = fields.List(fields.Nested(MetadataItemInput), load_default=list)


class TextList(fields.List):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if value in ("", None):
            return []
        if not isinstance(value, list):
            value = [value]
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


class AppCreateInput(Schema):
    name = Text(load_default="")
    platform = Text(load_default="")
    plan = Text(load_default="")
    teamOwner = Text(load_default="")
    pool = Text(load_default="")
    description = Text(load_default="")
    tags = TextList(Text(), load_default=list)
    router = Text(load_default="")
    routeropts = StringMap(load_default=dict)
    metadata = fields.Nested(MetadataInput, load_default=lambda: MetadataInput().load({}))


class PlanOverrideInput(Schema):
    memory = fields.Raw(load_default=None)
    cpumilli = fields.Raw(load_default=None)


class AppUpdateInput(Schema):
    description = Text(load_default="")
    tags = TextList(Text(), load_default=list)
    plan = Text(load_default="")
    planoverride = fields.Nested(PlanOverrideInput, load_default=None)
    pool = Text(load_default="")
    teamOwner = Text(load_default="")
    platform = Text(load_default="")
    imageReset = GoBool(load_default=False)
    noRestart = GoBool(load_default=False)
    router = Text(load_default="")
    routeropts = StringMap(load_default=dict)
    metadata = fields.Nested(MetadataInput, load_default=None)


class EnvItemInput(Schema):
    name = Text(load_default="")
    value = Text(load_default="")
    alias = Text(load_default="")
    private = GoBool(load_default=False)


class EnvSetInput(Schema):
    envs = fields.List(fields.Nested(EnvItemInput), load_default=None)
    norestart = GoBool(load_default=False)
    private = GoBool(load_default=False)
    managedBy = Text(load_default="")
    pruneUnused = GoBool(load_default=False)


class RouterInput(Schema):
    name = Text(load_default="")
    opts = StringMap(load_default=dict)


class RoutableInput(Schema):
    version = Text(load_default="")
    isRoutable = GoBool(load_default=False)


# -- fields read one by one (shared.http.input_value): documentation only ---------


class AppListQuery(Schema):
    name = fields.String(metadata={"description": "unanchored regular expression (RE2)"})
    platform = fields.String(metadata={"description": "`name` or `name:version`"})
    teamOwner = fields.String()
    owner = fields.String()
    pool = fields.String()
    locked = fields.Boolean()
    status = fields.List(fields.String())
    tag = fields.List(fields.String())
    simplified = fields.Boolean()
    extended = fields.Boolean()


class TagFields(Schema):
    tag = fields.List(fields.String(), metadata={"description": "repeatable"})


class EnvQuery(Schema):
    env = fields.List(fields.String())


class EnvUnsetQuery(Schema):
    env = fields.List(fields.String())
    noRestart = fields.Boolean()


class CnameInput(Schema):
    cname = fields.List(fields.String())


class CertificateInput(Schema):
    cname = fields.String()
    certificate = fields.String(metadata={"description": "PEM"})
    key = fields.String(metadata={"description": "PEM private key"})


class CnameQuery(Schema):
    cname = fields.String()


class QuotaInput(Schema):
    limit = fields.String(metadata={"description": "integer; negative: unlimited"})


class DryInput(Schema):
    dry = fields.Boolean()


class SwapInput(Schema):
    app1 = fields.String()
    app2 = fields.String()
    force = fields.String()
    cnameOnly = fields.Boolean()


class LogQuery(Schema):
    lines = fields.String(metadata={"description": "required; 0 = all, negative = none"})
    source = fields.String()
    unit = fields.List(fields.String())
    follow = fields.String(metadata={"description": "1 or true: keep streaming"})
    invert_source = fields.Boolean(data_key="invert-source")


class LogInput(Schema):
    message = fields.List(fields.String())
    source = fields.String()
    unit = fields.String()


class UnitRegisterInput(Schema):
    hostname = fields.String()
    customdata = fields.String(metadata={"description": "JSON object"})


class UnitStatusInput(Schema):
    status = fields.String()


class ServiceEnvsInput(Schema):
    service = fields.String(required=True)
    instance = fields.String(required=True)
    envs = fields.Dict(keys=fields.String(), values=fields.String())
    restart = fields.Boolean()


class ServiceEnvsQuery(Schema):
    service = fields.String()
    instance = fields.String()
    restart = fields.Boolean()
