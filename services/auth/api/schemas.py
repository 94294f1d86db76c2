"""Request bodies decoded as a whole (tsuru's ParseInput routes) and response shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from shared.golang.strconv import NumError, atoi
from shared.http.fields import GoBool

# tsuru turns ``expires_in`` seconds into a Go time.Duration (int64 nanoseconds);
# beyond this many seconds the multiplication wraps around (docs/compatibility.md).
MAX_DURATION_SECONDS = (2**63 - 1) // 10**9


class DurationSeconds(fields.Field):
    """A Go ``int`` of seconds: a JSON integer or a form string as strconv parses it."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Not a valid integer.")
        try:
            number = value if isinstance(value, int) else atoi(value)
        except NumError:
            raise ValidationError("Not a valid integer.") from None
        if abs(number) > MAX_DURATION_SECONDS:
            raise ValidationError("Number out of range.")
        return number


class TeamInput(Schema):
    name = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=list)


class TeamUpdateInput(Schema):
    newname = fields.String(load_default="")
    tags = fields.List(fields.String(), load_default=list)


class TokenCreateInput(Schema):
    token_id = fields.String(load_default="")
    description = fields.String(load_default="")
    expires_in = DurationSeconds(load_default=0)
    team = fields.String(load_default="")


class TokenUpdateInput(Schema):
    regenerate = GoBool(load_default=False)
    description = fields.String(load_default="")
    expires_in = DurationSeconds(load_default=0)


def quota_json(limit: int, inuse: int) -> dict[str, int]:
    return {"limit": limit, "inuse": inuse}
