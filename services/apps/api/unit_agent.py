"""The unit agent's calls with its app's token (apps.md §9.2)."""

from __future__ import annotations

from urllib.parse import parse_qs

from flask import Response, request

from services.apps.api import responses as out
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.api.schemas import UnitRegisterInput, UnitStatusInput
from services.apps.domain.env import env_json
from services.apps.operations import unit_agent
from shared.http import (
    FORM,
    Blueprint,
    empty,
    input_value,
    json_response,
    list_of,
    no_event,
    require_identity,
    requires,
)

bp: Blueprint = app_blueprint("unit_agent", __name__)


def _urlencoded() -> dict[str, list[str]]:
    # tsuru reads this body as URL-encoded whatever its Content-Type says.
    raw = request.get_data(cache=True).decode("utf-8", "replace")
    return parse_qs(raw, keep_blank_values=True)


@bp.route("/apps/<app>/units/register", methods=["POST"])
@bp.input(UnitRegisterInput, FORM)
@bp.output(200, list_of(out.EnvVar))
@bp.errors(400, {404: "App or unit not found"})
@no_event("tsuru records no event for a unit agent's registration")
@requires("app.update.unit.register")
def register(app: str) -> Response:
    body = _urlencoded()
    found = unit_agent.register(
        deps(),
        require_identity(),
        app,
        (body.get("hostname") or [""])[0],
        (body.get("customdata") or [""])[0],
        request.headers.get("User-Agent", ""),
        request.headers.get("X-Agent-Version", ""),
    )
    return json_response([env_json(e) for e in found])


@bp.route("/apps/<app>/units/<unit>", methods=["POST"])
@bp.input(UnitStatusInput)
@bp.output(200, description="Status relayed to the provisioner")
@bp.errors(400, {404: "App or unit not found"})
@no_event("tsuru records no event for a unit's status report")
@requires("app.update.unit.status")
def set_status(app: str, unit: str) -> Response:
    unit_agent.set_status(deps(), require_identity(), app, unit, input_value("status"))
    return empty()
