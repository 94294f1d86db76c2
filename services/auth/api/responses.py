"""Response shapes of the auth routes, for the OpenAPI document only.

The bodies themselves are built by the operations (``user_json``, ``role_json``,
``token_json`` ...) and written by ``json_response``; these schemas describe them
(tsuru's keys and casing, ``allow_none`` where Go marshals a nil slice as null) and
the conformance test holds them to what the service really sends.
"""

from __future__ import annotations

from marshmallow import Schema, fields


class Quota(Schema):
    limit = fields.Integer(required=True)
    inuse = fields.Integer(required=True)


class LoginToken(Schema):
    token = fields.String(required=True)


class AuthScheme(Schema):
    name = fields.String(required=True)
    data = fields.Dict(required=True, allow_none=True)


class ShownRole(Schema):
    Name = fields.String(required=True)
    ContextType = fields.String(required=True)
    ContextValue = fields.String(required=True)
    Group = fields.String()


class ShownPermission(Schema):
    Name = fields.String(required=True)
    ContextType = fields.String(required=True)
    ContextValue = fields.String(required=True)
    Group = fields.String()


class User(Schema):
    Email = fields.String(required=True)
    Roles = fields.List(fields.Nested(ShownRole), required=True)
    Permissions = fields.List(fields.Nested(ShownPermission), required=True, allow_none=True)
    Groups = fields.List(fields.String(), required=True, allow_none=True)


class TeamListed(Schema):
    name = fields.String(required=True)
    tags = fields.List(fields.String(), required=True, allow_none=True)
    permissions = fields.List(fields.String(), required=True)


class TeamInfo(Schema):
    name = fields.String(required=True)
    tags = fields.List(fields.String(), required=True, allow_none=True)
    users = fields.List(fields.Nested(User), required=True)
    pools = fields.List(fields.String(), required=True, allow_none=True)
    apps = fields.List(fields.Dict(), required=True)  # the apps context's app objects


class TokenRole(Schema):
    Name = fields.String(required=True)
    ContextValue = fields.String(required=True)


class TeamToken(Schema):
    token = fields.String(required=True, metadata={"description": "shown on creation only"})
    token_id = fields.String(required=True)
    description = fields.String(required=True)
    created_at = fields.String(required=True)
    expires_at = fields.String(required=True)
    last_access = fields.String(required=True)
    creator_email = fields.String(required=True)
    team = fields.String(required=True)
    roles = fields.List(fields.Nested(TokenRole))


class Role(Schema):
    name = fields.String(required=True)
    context = fields.String(required=True)
    Description = fields.String(required=True)
    scheme_names = fields.List(fields.String())
    events = fields.List(fields.String())


class PermissionNode(Schema):
    Name = fields.String(required=True)
    Contexts = fields.List(fields.String(), required=True)


API_KEY = {"type": "string", "description": "the user's API key (a JSON string)"}
TEAM_NAMES = {"type": "array", "items": {"type": "string"}}
