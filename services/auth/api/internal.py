"""Routes only our own processes call (docs/contracts.md "Token introspection")."""

from __future__ import annotations

from flask import Response

from services.auth.api.deps import deps
from services.auth.operations import sessions, teams
from shared.http import Blueprint, empty, input_value, internal, json_response

bp = Blueprint("internal", __name__)


@bp.route("/internal/introspect", methods=["POST"])
@internal
def introspect() -> Response:
    try:
        identity = sessions.introspect(deps(), input_value("token"))
    except sessions.UnknownToken:
        return empty(401)  # anonymous for the gateway; team token expiry raises with a body
    return json_response(identity.to_json())


@bp.route("/internal/teams", methods=["GET"])
@internal
def team_names() -> Response:
    return json_response(teams.team_names(deps()))
