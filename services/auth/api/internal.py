"""Routes only our own processes call (docs/contracts.md "Token introspection")."""

from __future__ import annotations

from flask import Response

from services.auth.api import responses as out
from services.auth.api.deps import deps
from services.auth.api.schemas import GrantsQuery, IntrospectInput
from services.auth.operations import sessions, teams
from shared.http import JSON, Blueprint, empty, input_value, internal, json_body, json_response

bp = Blueprint("internal", __name__)


@bp.route("/internal/introspect", methods=["POST"])
@bp.input(IntrospectInput)
@bp.output(200, {"type": "object"}, description="The token owner's identity")
@bp.errors({401: "Unknown token (empty body) or a refusal the client must see"})
@internal
def introspect() -> Response:
    try:
        identity, expires = sessions.introspect_until(deps(), input_value("token"))
    except sessions.UnknownToken:
        return empty(401)  # anonymous for the gateway; team token expiry raises with a body
    # "expires": Unix seconds of the credential's end (null: never), caps the gateway's cache.
    body = dict(identity.to_json(), expires=expires.timestamp() if expires else None)
    return json_response(body)


@bp.route("/internal/grants", methods=["POST"])
@bp.input(GrantsQuery, JSON)
@bp.output(200, {"type": "object"}, description="The subject's grants")
@bp.output(404, description="No such subject (empty body)")
@internal
def grants() -> Response:
    """Grants of a subject whose identity header carried only their digest."""
    body = json_body() or {}
    found = sessions.grants_of(deps(), str(body.get("kind", "")), str(body.get("name", "")))
    if found is None:
        return empty(404)
    return json_response({"grants": [g.to_json() for g in found]})


@bp.route("/internal/teams", methods=["GET"])
@bp.output(200, out.TEAM_NAMES)
@internal
def team_names() -> Response:
    return json_response(teams.team_names(deps()))
