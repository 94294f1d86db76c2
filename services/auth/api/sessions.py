"""Login, logout, auth scheme and SAML (auth.md §3.2, §3.3, §3.6, §3.32)."""

from __future__ import annotations

from flask import Response

from services.auth.api import responses as out
from services.auth.api.deps import deps
from services.auth.api.schemas import Credentials
from services.auth.domain import errors
from services.auth.operations import sessions
from shared.http import (
    Blueprint,
    authenticated,
    empty,
    input_present,
    input_value,
    json_response,
    no_event,
    public,
    require_identity,
)

bp = Blueprint("sessions", __name__)


def _login(email: str) -> Response:
    password = input_value("password") if input_present("password") else None
    token = sessions.login(deps(), email, password)
    return json_response({"token": token})


@bp.route("/auth/login", methods=["POST"])
@bp.input(Credentials)
@bp.output(200, out.LoginToken)
@bp.errors(400, {401: "Wrong password"}, 403, {404: "User not found"})
@no_event("tsuru records no event for a login")
@public
def login() -> Response:
    return _login(input_value("email"))


@bp.route("/users/<email>/tokens", methods=["POST"])
@bp.input(Credentials, description="email, when given (even empty), overrides the path")
@bp.output(200, out.LoginToken)
@bp.errors(400, {401: "Wrong password"}, 403, {404: "User not found"})
@no_event("tsuru records no event for a login")
@public
def login_legacy(email: str) -> Response:
    # A body/query ``email`` overrides the path, even when empty (tsuru 1.11).
    return _login(input_value("email") if input_present("email") else email)


@bp.route("/users/tokens", methods=["DELETE"])
@bp.output(200, description="Logged out (the token is revoked)")
@bp.errors(400)
@no_event("tsuru records no event for a logout")
@authenticated("ends the caller's own session")
def logout() -> Response:
    sessions.logout(deps(), require_identity())
    return empty()


@bp.route("/auth/scheme", methods=["GET"])
@bp.output(200, out.AuthScheme)
@public
def scheme() -> Response:
    return json_response({"name": "native", "data": None})


@bp.route("/auth/saml", methods=["GET", "POST"])
@bp.errors({400: "SAML is not the scheme of this server"})
@no_event("the native scheme serves no SAML: the callback changes nothing")
@public
def saml() -> Response:
    raise errors.SchemeNotSupported()
