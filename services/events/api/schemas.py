"""Request bodies of the events context (decoded with shared.http.parse_input)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load

from services.events.domain.webhooks import Webhook, WebhookFilter
from shared.golang.times import ZERO_TIME, parse_form_time
from shared.http.fields import GoBool


class GoSchema(Schema):
    """Go's JSON decoding leaves a field at its zero value when the body says ``null``."""

    @pre_load
    def _drop_nulls(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            if value is None or value == [None]:
                # shared.http wraps a scalar given for a list field, null included
                continue
            if isinstance(value, list):
                value = ["" if v is None else v for v in value]
            elif isinstance(value, dict) and key.lower() == "headers":
                value = {k: [] if v is None else v for k, v in value.items()}
            out[key] = value
        return out


class GoTime(fields.Field):
    """A time the way tsuru's decoders take it (RFC 3339 and its shortened forms)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if value == "":
            return ZERO_TIME
        try:
            return parse_form_time(str(value))
        except ValueError as exc:
            raise ValidationError(f"cannot decode {value!r} as time.Time") from exc


class TargetSchema(GoSchema):
    type = fields.String(data_key="Type", load_default="")
    value = fields.String(data_key="Value", load_default="")


class BlockSchema(GoSchema):
    """tsuru's Block without JSON tags: Go field names (ID, StartTime ... are ignored)."""

    kind_name = fields.String(data_key="KindName", load_default="")
    owner_name = fields.String(data_key="OwnerName", load_default="")
    target = fields.Nested(TargetSchema, data_key="Target", load_default=dict)
    conditions = fields.Dict(
        keys=fields.String(), values=fields.String(), data_key="Conditions", allow_none=True
    )
    reason = fields.String(data_key="Reason", load_default="")
    # tsuru overwrites ID, StartTime and Active of the decoded block, not EndTime.
    end_time = GoTime(data_key="EndTime", load_default=ZERO_TIME, metadata={"type": "string"})


class WebhookFilterSchema(GoSchema):
    target_types = fields.List(fields.String(), load_default=list)
    target_values = fields.List(fields.String(), load_default=list)
    kind_types = fields.List(fields.String(), load_default=list)
    kind_names = fields.List(fields.String(), load_default=list)
    error_only = GoBool(load_default=False)
    success_only = GoBool(load_default=False)


class WebhookSchema(GoSchema):
    name = fields.String(load_default="")
    description = fields.String(load_default="")
    team_owner = fields.String(load_default="")
    event_filter = fields.Nested(WebhookFilterSchema, load_default=dict)
    url = fields.String(load_default="")
    proxy_url = fields.String(load_default="")
    headers = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), load_default=dict
    )
    method = fields.String(load_default="")
    body = fields.String(load_default="")
    insecure = GoBool(load_default=False)
    # Tsubame: the HMAC key of X-Tsubame-Signature; generated when absent.
    secret = fields.String(load_default="")


def webhook_from_input(data: dict[str, Any], name: str | None = None) -> Webhook:
    flt = data.get("event_filter") or {}
    return Webhook(
        name=name if name is not None else data.get("name", ""),
        url=data.get("url", ""),
        team_owner=data.get("team_owner", ""),
        description=data.get("description", ""),
        event_filter=WebhookFilter(
            target_types=tuple(flt.get("target_types") or ()),
            target_values=tuple(flt.get("target_values") or ()),
            kind_types=tuple(flt.get("kind_types") or ()),
            kind_names=tuple(flt.get("kind_names") or ()),
            error_only=bool(flt.get("error_only")),
            success_only=bool(flt.get("success_only")),
        ),
        proxy_url=data.get("proxy_url", ""),
        headers={k: tuple(v) for k, v in (data.get("headers") or {}).items()},
        method=data.get("method", ""),
        body=data.get("body", ""),
        insecure=bool(data.get("insecure")),
        secret=data.get("secret", ""),
    )
