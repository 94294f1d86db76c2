"""Roles, permissions, assignments and default roles (auth.md §3.25-§3.31)."""

from __future__ import annotations

from flask import Response, request

from services.auth.api import responses as out
from services.auth.api.deps import deps
from services.auth.api.presenters import permission_json, role_json
from services.auth.api.schemas import (
    Context,
    DefaultRoles,
    GroupAssign,
    PermissionsAdd,
    RoleCreate,
    RoleUpdate,
    TokenAssign,
    UserAssign,
)
from services.auth.domain import errors
from services.auth.domain.models import ROLE_EVENTS
from services.auth.operations import assign, roles
from shared.http import (
    QUERY,
    Blueprint,
    empty,
    input_fields,
    input_value,
    input_values,
    json_response,
    list_of,
    require_identity,
    requires,
)

bp = Blueprint("roles", __name__)


@bp.route("/roles", methods=["POST"])
@bp.input(RoleCreate)
@bp.output(201, description="Role created")
@bp.errors(400, {409: "Role already exists"})
@requires("role.create")
def create_role() -> Response:
    roles.create_role(
        deps(),
        require_identity(),
        input_value("name"),
        input_value("context"),
        input_value("description"),
        input_fields(),
    )
    return empty(201)


@bp.route("/roles", methods=["PUT"])
@bp.input(RoleUpdate)
@bp.output(200, description="Role updated")
@bp.errors(400, {404: "Role not found"}, 409)
@requires("role.update")
def update_role() -> Response:
    roles.update_role(
        deps(),
        require_identity(),
        input_value("name"),
        input_value("newName"),
        input_value("contextType"),
        input_value("description"),
        input_fields(),
    )
    return empty()


@bp.route("/roles", methods=["GET"])
@bp.output(200, list_of(out.Role, nullable=True), description="Roles (null when none)")
@requires(*roles.ROLE_READERS)
def list_roles() -> Response:
    found = [role_json(r) for r in roles.list_roles(deps(), require_identity())]
    # tsuru writes this body without the encoder's trailing newline.
    # Go marshals the nil slice read from an empty collection as null.
    return json_response(found or None, newline=False)


@bp.route("/roles/<name>", methods=["GET"])
@bp.output(200, out.Role)
@bp.errors({404: "Role not found"})
@requires(*roles.ROLE_READERS)
def role_info(name: str) -> Response:
    return json_response(
        role_json(roles.role_info(deps(), require_identity(), name)), newline=False
    )


@bp.route("/roles/<name>", methods=["DELETE"])
@bp.output(200, description="Role removed")
@bp.errors({404: "Role not found"}, {412: "Role with users"})
@requires("role.delete")
def delete_role(name: str) -> Response:
    roles.delete_role(deps(), require_identity(), name, input_fields())
    return empty()


@bp.route("/roles/<name>/permissions", methods=["POST"])
@bp.input(PermissionsAdd)
@bp.output(200, description="Permissions added")
@bp.errors(400, {404: "Role not found"}, {409: "Permission not allowed"})
@requires("role.update.permission.add")
def add_permissions(name: str) -> Response:
    roles.add_permissions(
        deps(), require_identity(), name, input_values("permission"), input_fields()
    )
    return empty()


@bp.route("/roles/<name>/permissions/<permission>", methods=["DELETE"])
@bp.output(200, description="Permission removed")
@bp.errors(400, {404: "Role not found"})
@requires("role.update.permission.remove")
def remove_permission(name: str, permission: str) -> Response:
    roles.remove_permission(deps(), require_identity(), name, permission, input_fields())
    return empty()


@bp.route("/roles/<name>/user", methods=["POST"])
@bp.input(UserAssign)
@bp.output(200, description="Role assigned")
@bp.errors(400, {404: "Role or user not found"})
@requires("role.update.assign")
def assign_user(name: str) -> Response:
    assign.assign_to_user(
        deps(),
        require_identity(),
        name,
        input_value("email"),
        input_value("context"),
        input_fields(),
    )
    return empty()


@bp.route("/roles/<name>/user/<email>", methods=["DELETE"])
@bp.input(Context, QUERY)
@bp.output(200, description="Role dissociated")
@bp.errors(400, {404: "Role or user not found"})
@requires("role.update.dissociate")
def dissociate_user(name: str, email: str) -> Response:
    # tsuru reads the context value from the query string only.
    assign.dissociate_from_user(
        deps(), require_identity(), name, email, request.args.get("context", ""), input_fields()
    )
    return empty()


@bp.route("/roles/<name>/token", methods=["POST"])
@bp.input(TokenAssign)
@bp.output(200, description="Role assigned")
@bp.errors(400)
# tsuru 1.11 answers an unknown token with an empty 404, an unknown role in plain text.
@bp.output(404, description="Role (plain text) or team token (empty body) not found")
@requires("role.update.assign")
def assign_token(name: str) -> Response:
    try:
        assign.assign_to_token(
            deps(),
            require_identity(),
            name,
            input_value("token_id"),
            input_value("context"),
            input_fields(),
        )
    except errors.TeamTokenNotFoundEmpty:
        return empty(404)  # tsuru 1.11 answers an empty 404 here
    return empty()


@bp.route("/roles/<name>/token/<token_id>", methods=["DELETE"])
@bp.input(Context, QUERY)
@bp.output(200, description="Role dissociated")
@bp.errors(400)
# tsuru 1.11 answers an unknown token with an empty 404, an unknown role in plain text.
@bp.output(404, description="Role (plain text) or team token (empty body) not found")
@requires("role.update.dissociate")
def dissociate_token(name: str, token_id: str) -> Response:
    try:
        assign.dissociate_from_token(
            deps(), require_identity(), name, token_id, input_value("context"), input_fields()
        )
    except errors.TeamTokenNotFoundEmpty:
        return empty(404)  # tsuru 1.11 answers an empty 404 here
    return empty()


@bp.route("/roles/<name>/group", methods=["POST"])
@bp.input(GroupAssign)
@bp.output(200, description="Role assigned")
@bp.errors(400, {404: "Role not found"})
@requires("role.update.assign")
def assign_group(name: str) -> Response:
    assign.assign_to_group(
        deps(),
        require_identity(),
        name,
        input_value("group_name"),
        input_value("context"),
        input_fields(),
    )
    return empty()


@bp.route("/roles/<name>/group/<group_name>", methods=["DELETE"])
@bp.input(Context, QUERY)
@bp.output(200, description="Role dissociated")
@bp.errors(400, {404: "Role not found"})
@requires("role.update.dissociate")
def dissociate_group(name: str, group_name: str) -> Response:
    assign.dissociate_from_group(
        deps(), require_identity(), name, group_name, input_value("context"), input_fields()
    )
    return empty()


@bp.route("/permissions", methods=["GET"])
@bp.output(200, list_of(out.PermissionNode))
@requires("role.update")
def list_permissions() -> Response:
    return json_response([permission_json(n) for n in roles.list_permissions(require_identity())])


def _wanted() -> dict[str, list[str]]:
    return {ev: vals for ev in ROLE_EVENTS if (vals := [v for v in input_values(ev) if v])}


@bp.route("/role/default", methods=["GET"])
@bp.output(200, list_of(out.Role, nullable=True), description="Roles (null when none)")
@requires(*roles.DEFAULT_ROLE_READERS)
def list_default_roles() -> Response:
    found = [role_json(r) for r in roles.list_default_roles(deps(), require_identity())]
    return json_response(found or None)


@bp.route("/role/default", methods=["POST"])
@bp.input(DefaultRoles)
@bp.output(200, description="Default roles added")
@bp.errors(400, {404: "Role not found"})
@requires("role.default.create")
def add_default_roles() -> Response:
    roles.add_default_roles(deps(), require_identity(), _wanted(), input_fields())
    return empty()


@bp.route("/role/default", methods=["DELETE"])
@bp.input(DefaultRoles, QUERY)
@bp.output(200, description="Default roles removed")
@bp.errors(400, {404: "Role not found"})
@requires("role.default.delete")
def remove_default_roles() -> Response:
    roles.remove_default_roles(deps(), require_identity(), _wanted(), input_fields())
    return empty()
