"""Teams and team quota (auth.md §3.14-§3.19)."""

from __future__ import annotations

from flask import Response

from services.auth.api import responses as out
from services.auth.api.deps import deps
from services.auth.api.presenters import quota_json, team_info_json, team_json
from services.auth.api.schemas import QuotaChange, TeamInput, TeamUpdateInput
from services.auth.operations import teams
from shared.http import (
    Blueprint,
    authenticated,
    empty,
    input_fields,
    input_value,
    input_values,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)
from shared.permissions import ensure

bp = Blueprint("teams", __name__)


def _tags(parsed: list[str]) -> list[str]:
    # Repeated ``tag`` fields always work; ``tags`` comes from the decoded body.
    return input_values("tag") + list(parsed)


@bp.route("/teams", methods=["POST"])
@bp.input(TeamInput, description="repeated `tag` fields add tags too")
@bp.output(201, description="Team created")
@bp.errors(400, {409: "Team already exists"})
@requires("team.create")
def create_team() -> Response:
    # tsuru checks team.create before decoding the body (the operation checks it again).
    ensure(require_identity(), "team.create")
    data = parse_input(TeamInput())
    teams.create_team(deps(), require_identity(), data["name"], _tags(data["tags"]), input_fields())
    return empty(201)


@bp.route("/teams", methods=["GET"])
@bp.output(200, list_of(out.TeamListed))
@bp.output(204, description="No team visible to the caller")
@authenticated("lists the teams where the caller holds any team permission")
def list_teams() -> Response:
    found = [team_json(t) for t in teams.list_teams(deps(), require_identity())]
    return json_response(found) if found else empty(204)


@bp.route("/teams/<name>", methods=["GET"])
@bp.output(200, out.TeamInfo)
@bp.errors({404: "Team not found"})
@requires("team.read")
def team_info(name: str) -> Response:
    return json_response(team_info_json(teams.team_info(deps(), require_identity(), name)))


@bp.route("/teams/<name>", methods=["PUT", "POST"])
@bp.input(TeamUpdateInput, description="repeated `tag` fields add tags too")
@bp.output(200, description="Team updated")
@bp.errors(400, {404: "Team not found"}, 409, 500)
@requires("team.update")
def update_team(name: str) -> Response:
    data = parse_input(TeamUpdateInput())
    teams.update_team(
        deps(),
        require_identity(),
        name,
        data["newname"].strip(),
        _tags(data["tags"]),
        input_fields(),
    )
    return empty()


@bp.route("/teams/<name>", methods=["DELETE"])
@bp.output(200, description="Team removed")
@bp.errors({404: "Team not found"}, 500)
@requires("team.delete")
def remove_team(name: str) -> Response:
    teams.remove_team(deps(), require_identity(), name, input_fields())
    return empty()


@bp.route("/teams/<name>/quota", methods=["GET"])
@bp.output(200, out.Quota)
@bp.errors({404: "Team not found"})
@requires("team.read.quota")
def team_quota(name: str) -> Response:
    return json_response(quota_json(teams.team_quota(deps(), require_identity(), name)))


@bp.route("/teams/<name>/quota", methods=["PUT"])
@bp.input(QuotaChange)
@bp.output(200, description="Quota updated")
@bp.errors(400, {404: "Team not found"})
@requires("team.update.quota")
def change_team_quota(name: str) -> Response:
    teams.change_team_quota(deps(), require_identity(), name, input_value("limit"), input_fields())
    return empty()
