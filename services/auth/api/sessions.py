"""Login, logout, auth scheme and SAML (auth.md §3.2, §3.3, §3.6, §3.32)."""

from __future__ import annotations

from flask import Response

from services.auth.api.deps import deps
from services.auth.domain import errors
from services.auth.operations import sessions
from shared.http import (
    Blueprint,
    empty,
    input_present,
    input_value,
    json_response,
    public,
    require_identity,
    requires,
)

bp = Blueprint("sessions", __name__)


def _login(email: str) -> Response:
    password = input_value("password") if input_present("password") else None
    token = sessions.login(deps(), email, password)
    return json_response({"token": token})


@bp.route("/auth/login", methods=["POST"])
@public
def login() -> Response:
    return _login(input_value("email"))


@bp.route("/users/<email>/tokens", methods=["POST"])
@public
def login_legacy(email: str) -> Response:
    # A body/query ``email`` overrides the path, even when empty (tsuru 1.11).
    return _login(input_value("email") if input_present("email") else email)


@bp.route("/users/tokens", methods=["DELETE"])
@requires("user")
def logout() -> Response:
    sessions.logout(deps(), require_identity())
    return empty()


@bp.route("/auth/scheme", methods=["GET"])
@public
def scheme() -> Response:
    return json_response({"name": "native", "data": None})


@bp.route("/auth/saml", methods=["GET", "POST"])
@public
def saml() -> Response:
    raise errors.SchemeNotSupported()
