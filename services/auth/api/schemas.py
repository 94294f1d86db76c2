"""Request bodies decoded as a whole (tsuru's ParseInput routes), and the fields other
routes read one by one (``input_value``), declared for the OpenAPI document.

Response shapes are in ``responses.py``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from shared.golang.strconv import NumError, atoi
from shared.http.fields import GoBool

# tsuru turns ``expires_in`` seconds into a Go time.Duration (int64 nanoseconds);
# beyond this many seconds the multiplication wraps around (docs/compatibility.md).
MAX_DURATION_SECONDS = (2**63 - 1) // 10**9


class DurationSeconds(fields.Field):  # documented as an integer (metadata below)
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
    expires_in = DurationSeconds(load_default=0, metadata={"type": "integer"})
    team = fields.String(load_default="")


class TokenUpdateInput(Schema):
    regenerate = GoBool(load_default=False)
    description = fields.String(load_default="")
    expires_in = DurationSeconds(load_default=0, metadata={"type": "integer"})


# -- fields read one by one (shared.http.input_value): documentation only ---------


class Credentials(Schema):
    email = fields.String()
    password = fields.String()


class PasswordChange(Schema):
    old = fields.String()
    new = fields.String()
    confirm = fields.String()


class PasswordReset(Schema):
    token = fields.String(metadata={"description": "the reset token mailed to the user"})


class QuotaChange(Schema):
    limit = fields.Integer(metadata={"description": "-1: unlimited"})


class UserQuery(Schema):
    user = fields.String(metadata={"description": "a user's email (default: the caller)"})


class UserFilter(Schema):
    userEmail = fields.String()
    role = fields.String()
    context = fields.String()


class RoleCreate(Schema):
    name = fields.String()
    context = fields.String(metadata={"description": "global, team, app, pool ..."})
    description = fields.String()


class RoleUpdate(Schema):
    name = fields.String()
    newName = fields.String()
    contextType = fields.String()
    description = fields.String()


class PermissionsAdd(Schema):
    permission = fields.List(fields.String())


class UserAssign(Schema):
    email = fields.String()
    context = fields.String()


class TokenAssign(Schema):
    token_id = fields.String()
    context = fields.String()


class GroupAssign(Schema):
    group_name = fields.String()
    context = fields.String()


class Context(Schema):
    context = fields.String()


class DefaultRoles(Schema):
    """Role names per event (tsuru's role events)."""

    user_create = fields.List(fields.String(), data_key="user-create")
    team_create = fields.List(fields.String(), data_key="team-create")


class IntrospectInput(Schema):
    token = fields.String()


class GrantsQuery(Schema):
    kind = fields.String()
    name = fields.String()


class AppTokenInput(Schema):
    app = fields.String()


class AppQuotaInput(Schema):
    user = fields.String()
    team = fields.String()
