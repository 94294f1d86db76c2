"""Routes only our own processes call (docs/runtime.md, docs/contracts.md "Team usage")."""

from __future__ import annotations

from flask import Response

from services.catalog.api import responses as out
from services.catalog.api.deps import deps
from services.catalog.operations import internal as ops
from shared.http import Blueprint, internal, json_response

bp = Blueprint("internal", __name__)


@bp.route("/internal/apps/<app>/binds", methods=["GET"])
@bp.output(200, out.BINDS)
@internal
def binds(app: str) -> Response:
    return json_response(ops.binds_of(deps(), app))


@bp.route("/internal/teams/<team>/usage", methods=["GET"])
@bp.output(200, out.TEAM_USAGE)
@internal
def team_usage(team: str) -> Response:
    return json_response({"service_instances": ops.team_usage(deps(), team)})


@bp.route("/internal/services", methods=["GET"])
@bp.output(200, out.SERVICE_NAMES)
@internal
def service_names() -> Response:
    return json_response({"services": ops.service_names(deps())})
