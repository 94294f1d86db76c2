"""Users, passwords, API keys and user quota (auth.md §3.1, §3.4, §3.5, §3.7-§3.13)."""

from __future__ import annotations

from flask import Response, request

from services.auth.api import responses as out
from services.auth.api.deps import deps
from services.auth.api.presenters import quota_json, user_json
from services.auth.api.schemas import (
    Credentials,
    PasswordChange,
    PasswordReset,
    QuotaChange,
    UserFilter,
    UserQuery,
)
from services.auth.operations import credentials, users
from shared.http import (
    QUERY,
    Blueprint,
    authenticated,
    current_identity,
    empty,
    input_fields,
    input_value,
    json_response,
    list_of,
    public,
    require_identity,
    requires,
)

bp = Blueprint("users", __name__)


@bp.route("/users", methods=["POST"])
@bp.input(Credentials)
@bp.output(201, description="User created")
@bp.errors(
    400,
    {401: "Registration needs a token with user.create", 403: "Forbidden"},
    {409: "User already exists"},
)
@public  # open route: the operation checks registration rules itself
def create_user() -> Response:
    users.create_user(
        deps(),
        current_identity(),
        input_value("email"),
        input_value("password"),
        input_fields(sensitive=("password",)),
    )
    return empty(201)


@bp.route("/users", methods=["GET"])
@bp.input(UserFilter, QUERY)
@bp.output(200, list_of(out.User))
@bp.errors({404: "Wrong context, or the caller is not a user"}, 400)
@authenticated("lists the users whose roles the caller may see")
def list_users() -> Response:
    # tsuru reads these filters (and ``user`` below) from the query string only.
    found = users.list_users(
        deps(),
        require_identity(),
        request.args.get("userEmail", ""),
        request.args.get("role", ""),
        request.args.get("context", ""),
    )
    return json_response([user_json(u) for u in found])


@bp.route("/users", methods=["DELETE"])
@bp.input(UserQuery, QUERY)
@bp.output(200, description="User removed")
@bp.errors(400, {404: "User not found"}, 409)
@requires("user.delete")
def remove_user() -> Response:
    users.remove_user(deps(), require_identity(), request.args.get("user", ""), input_fields())
    return empty()


@bp.route("/users/info", methods=["GET"])
@bp.output(200, out.User)
@bp.errors(400, 404)
@authenticated("the caller's own user")
def user_info() -> Response:
    return json_response(user_json(users.user_info(deps(), require_identity())))


@bp.route("/users/password", methods=["PUT"])
@bp.input(PasswordChange)
@bp.output(200, description="Password changed")
@bp.errors(400, {404: "User not found"})
@authenticated("the caller's own password (tsuru checks no permission)")
def change_password() -> Response:
    credentials.change_password(
        deps(),
        require_identity(),
        input_value("old"),
        input_value("new"),
        input_value("confirm"),
    )
    return empty()


@bp.route("/users/<email>/password", methods=["POST"])
@bp.input(PasswordReset)
@bp.output(200, description="Reset token mailed, or new password mailed")
@bp.errors(400, {403: "Invalid token"}, {404: "User not found"}, 500)
@public
def reset_password(email: str) -> Response:
    # tsuru records the reset token in clear in the event; we mask it.
    credentials.reset_password(
        deps(), email, input_value("token"), input_fields(sensitive=("token",))
    )
    return empty()


@bp.route("/users/api-key", methods=["GET"])
@bp.input(UserQuery, QUERY)
@bp.output(200, out.API_KEY)
@bp.errors(400, {404: "User not found"})
@requires("user.update.token")
def show_apikey() -> Response:
    key = credentials.show_apikey(deps(), require_identity(), request.args.get("user", ""))
    return json_response(key)


@bp.route("/users/api-key", methods=["POST"])
@bp.input(UserQuery, QUERY)
@bp.output(200, out.API_KEY)
@bp.errors(400, {404: "User not found"})
@requires("user.update.token")
def regenerate_apikey() -> Response:
    key = credentials.regenerate_apikey(
        deps(), require_identity(), request.args.get("user", ""), input_fields()
    )
    return json_response(key)


@bp.route("/users/<email>/quota", methods=["GET"])
@bp.output(200, out.Quota)
@bp.errors({400: "Invalid email"}, {404: "User not found"})
@requires("user.read.quota")
def user_quota(email: str) -> Response:
    return json_response(quota_json(users.user_quota(deps(), require_identity(), email)))


@bp.route("/users/<email>/quota", methods=["PUT"])
@bp.input(QuotaChange)
@bp.output(200, description="Quota updated")
@bp.errors(400, {404: "User not found"})
@requires("user.update.quota")
def change_user_quota(email: str) -> Response:
    users.change_user_quota(deps(), require_identity(), email, input_value("limit"), input_fields())
    return empty()
