"""Team tokens (auth.md §3.20-§3.24)."""

from __future__ import annotations

from flask import Response

from services.auth.api import responses as out
from services.auth.api.deps import deps
from services.auth.api.presenters import token_json
from services.auth.api.schemas import TokenCreateInput, TokenUpdateInput
from services.auth.operations import tokens
from shared.http import (
    Blueprint,
    empty,
    input_fields,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("tokens", __name__)


@bp.route("/tokens", methods=["GET"])
@bp.output(200, list_of(out.TeamToken))
@bp.output(204, description="No token visible to the caller")
@requires("team.token.read")
def list_tokens() -> Response:
    found = [token_json(t) for t in tokens.list_tokens(deps(), require_identity())]
    return json_response(found) if found else empty(204)


@bp.route("/tokens/<token_id>", methods=["GET"])
@bp.output(200, out.TeamToken)
@bp.errors({404: "Token not found"})
@requires("team.token.read")
def token_info(token_id: str) -> Response:
    return json_response(token_json(tokens.token_info(deps(), require_identity(), token_id)))


@bp.route("/tokens", methods=["POST"])
@bp.input(TokenCreateInput)
@bp.output(201, out.TeamToken, description="Token created (its value shown this once)")
@bp.errors(400, {404: "Team not found"}, {409: "Token already exists"})
@requires("team.token.create")
def create_token() -> Response:
    data = parse_input(TokenCreateInput())
    issued = tokens.create_token(deps(), require_identity(), fields=input_fields(), **data)
    return json_response(token_json(issued.token, issued.value), 201)


@bp.route("/tokens/<token_id>", methods=["PUT"])
@bp.input(TokenUpdateInput)
@bp.output(200, out.TeamToken)
@bp.errors(400, {404: "Token not found"})
@requires("team.token.update")
def update_token(token_id: str) -> Response:
    data = parse_input(TokenUpdateInput())
    issued = tokens.update_token(
        deps(), require_identity(), token_id, fields=input_fields(), **data
    )
    return json_response(token_json(issued.token, issued.value))


@bp.route("/tokens/<token_id>", methods=["DELETE"])
@bp.output(200, description="Token removed")
@bp.errors({404: "Token not found"})
@requires("team.token.delete")
def delete_token(token_id: str) -> Response:
    tokens.delete_token(deps(), require_identity(), token_id, input_fields())
    return empty()
