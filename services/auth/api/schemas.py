"""Request bodies decoded as a whole (tsuru's ParseInput routes) and response shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields


class GoBool(fields.Boolean):
    """Go's strconv.ParseBool; an empty value decodes as false (ajg/form)."""

    truthy = {"1", "t", "T", "TRUE", "true", "True", True}
    falsy = {"0", "f", "F", "FALSE", "false", "False", "", False}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if value in self.truthy:
            return True
        if value in self.falsy:
            return False
        raise ValidationError(f"invalid boolean {value!r}")


class TeamInput(Schema):
    name = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=list)


class TeamUpdateInput(Schema):
    newname = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=list)


class TokenCreateInput(Schema):
    token_id = fields.String(load_default="")
    description = fields.String(load_default="")
    expires_in = fields.Integer(load_default=0)
    team = fields.String(load_default="")


class TokenUpdateInput(Schema):
    regenerate = GoBool(load_default=False)
    description = fields.String(load_default="")
    expires_in = fields.Integer(load_default=0)


def quota_json(limit: int, inuse: int) -> dict[str, int]:
    return {"limit": limit, "inuse": inuse}
