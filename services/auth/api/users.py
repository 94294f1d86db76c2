"""Users, passwords, API keys and user quota (auth.md §3.1, §3.4, §3.5, §3.7-§3.13)."""

from __future__ import annotations

from flask import Response, request

from services.auth.api.deps import deps
from services.auth.api.schemas import quota_json
from services.auth.operations import credentials, users
from shared.http import (
    Blueprint,
    current_identity,
    empty,
    input_fields,
    input_value,
    json_response,
    public,
    require_identity,
    requires,
)

bp = Blueprint("users", __name__)


@bp.route("/users", methods=["POST"])
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
@requires("user.read")
def list_users() -> Response:
    # tsuru reads these filters (and ``user`` below) from the query string only.
    found = users.list_users(
        deps(),
        require_identity(),
        request.args.get("userEmail", ""),
        request.args.get("role", ""),
        request.args.get("context", ""),
    )
    return json_response(found)


@bp.route("/users", methods=["DELETE"])
@requires("user.delete")
def remove_user() -> Response:
    users.remove_user(deps(), require_identity(), request.args.get("user", ""), input_fields())
    return empty()


@bp.route("/users/info", methods=["GET"])
@requires("user.read")
def user_info() -> Response:
    return json_response(users.user_info(deps(), require_identity()))


@bp.route("/users/password", methods=["PUT"])
@requires("user.update.password")
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
@public
def reset_password(email: str) -> Response:
    # tsuru records the reset token in clear in the event; we mask it.
    credentials.reset_password(
        deps(), email, input_value("token"), input_fields(sensitive=("token",))
    )
    return empty()


@bp.route("/users/api-key", methods=["GET"])
@requires("user.update.token")
def show_apikey() -> Response:
    key = credentials.show_apikey(deps(), require_identity(), request.args.get("user", ""))
    return json_response(key)


@bp.route("/users/api-key", methods=["POST"])
@requires("user.update.token")
def regenerate_apikey() -> Response:
    key = credentials.regenerate_apikey(
        deps(), require_identity(), request.args.get("user", ""), input_fields()
    )
    return json_response(key)


@bp.route("/users/<email>/quota", methods=["GET"])
@requires("user.read.quota")
def user_quota(email: str) -> Response:
    q = users.user_quota(deps(), require_identity(), email)
    return json_response(quota_json(q.limit, q.inuse))


@bp.route("/users/<email>/quota", methods=["PUT"])
@requires("user.update.quota")
def change_user_quota(email: str) -> Response:
    users.change_user_quota(deps(), require_identity(), email, input_value("limit"), input_fields())
    return empty()
