"""Response shapes and query parameters of the events routes, for the OpenAPI document.

The bodies are built by ``domain/render.py`` and the operations and written by
``json_response``; these schemas describe them with Go's field names, and the
conformance test holds them to what the service really sends.
"""

from __future__ import annotations

from marshmallow import Schema, fields

# Classes whose name is also an Event key end in "Schema" (dropped in the document);
# "...Info" names keep the output shapes apart from the request bodies in schemas.py.


class TargetInfo(Schema):
    Type = fields.String(required=True)
    Value = fields.String(required=True)


class EventID(Schema):
    Target = fields.Nested(TargetInfo, required=True)
    ObjId = fields.String(required=True)


class ExtraTarget(Schema):
    Target = fields.Nested(TargetInfo, required=True)
    Lock = fields.Boolean(required=True)


class CustomData(Schema):
    """BSON re-encoded: the element type in Kind, its bytes base64 in Data."""

    Kind = fields.Integer(required=True)
    Data = fields.String(required=True, allow_none=True)


class NamedType(Schema):
    Type = fields.String(required=True)
    Name = fields.String(required=True)


class LogEntry(Schema):
    Date = fields.String(required=True)
    Message = fields.String(required=True)


class CancelInfoSchema(Schema):
    Owner = fields.String(required=True)
    StartTime = fields.String(required=True)
    AckTime = fields.String(required=True)
    Reason = fields.String(required=True)
    Asked = fields.Boolean(required=True)
    Canceled = fields.Boolean(required=True)


class AllowedContext(Schema):
    CtxType = fields.String(required=True)
    Value = fields.String(required=True)


class AllowedSchema(Schema):
    Scheme = fields.String(required=True)
    Contexts = fields.List(fields.Nested(AllowedContext), required=True)


class InstanceSchema(Schema):
    Name = fields.String(required=True)
    Port = fields.String(required=True)
    TLSPort = fields.String(required=True)
    Addresses = fields.List(fields.String(), required=True)
    LastUpdate = fields.String(required=True)


class Event(Schema):
    ID = fields.Nested(EventID, required=True)
    UniqueID = fields.String(required=True)
    StartTime = fields.String(required=True)
    EndTime = fields.String(required=True)
    Target = fields.Nested(TargetInfo, required=True)
    ExtraTargets = fields.List(fields.Nested(ExtraTarget), required=True, allow_none=True)
    StartCustomData = fields.Nested(CustomData, required=True)
    EndCustomData = fields.Nested(CustomData, required=True)
    OtherCustomData = fields.Nested(CustomData, required=True)
    Kind = fields.Nested(NamedType, required=True)
    Owner = fields.Nested(NamedType, required=True)
    LockUpdateTime = fields.String(required=True)
    Error = fields.String(required=True)
    Log = fields.String(required=True)
    StructuredLog = fields.List(fields.Nested(LogEntry), required=True, allow_none=True)
    CancelInfo = fields.Nested(CancelInfoSchema, required=True)
    Cancelable = fields.Boolean(required=True)
    Running = fields.Boolean(required=True)
    Allowed = fields.Nested(AllowedSchema, required=True)
    AllowedCancel = fields.Nested(AllowedSchema, required=True)
    Instance = fields.Nested(InstanceSchema, required=True)


class BlockInfo(Schema):
    ID = fields.String(required=True)
    StartTime = fields.String(required=True)
    EndTime = fields.String(required=True)
    KindName = fields.String(required=True)
    OwnerName = fields.String(required=True)
    Target = fields.Nested(TargetInfo, required=True)
    Conditions = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True, allow_none=True
    )
    Reason = fields.String(required=True)
    Active = fields.Boolean(required=True)


class WebhookFilterInfo(Schema):
    target_types = fields.List(fields.String(), required=True)
    target_values = fields.List(fields.String(), required=True)
    kind_types = fields.List(fields.String(), required=True)
    kind_names = fields.List(fields.String(), required=True)
    error_only = fields.Boolean(required=True)
    success_only = fields.Boolean(required=True)


class WebhookInfo(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    team_owner = fields.String(required=True)
    event_filter = fields.Nested(WebhookFilterInfo, required=True)
    url = fields.String(required=True)
    proxy_url = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    method = fields.String(required=True)
    body = fields.String(required=True)
    insecure = fields.Boolean(required=True)


class WebhookCreated(Schema):
    secret = fields.String(required=True, metadata={"description": "shown this once"})


# -- query strings -----------------------------------------------------------------


class EventQuery(Schema):
    """GET /events filters (keys in any case)."""

    kindname = fields.List(fields.String())
    kindtype = fields.String()
    target_type = fields.String(data_key="target.type")
    target_value = fields.String(data_key="target.value")
    ownertype = fields.String()
    ownername = fields.String()
    since = fields.String(metadata={"description": "RFC 3339 time"})
    until = fields.String(metadata={"description": "RFC 3339 time"})
    running = fields.String(metadata={"description": "a Go boolean"})
    erroronly = fields.String(metadata={"description": "a Go boolean"})
    limit = fields.Integer()
    skip = fields.Integer()
    sort = fields.String()


class BlockQuery(Schema):
    active = fields.String(metadata={"description": "a Go boolean; unparsable: inactive"})


class CancelInput(Schema):
    reason = fields.String()
