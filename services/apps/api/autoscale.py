"""Unit autoscale of an app (apps.md §9.2): ``/apps/{app}/units/autoscale``."""

from __future__ import annotations

from flask import Response

from services.apps.api.deploy_schemas import AutoscaleInfo, AutoscaleProcessQuery, AutoscaleSpec
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.domain.deploy_errors import AutoscaleParse
from services.apps.operations import autoscale
from shared.errors import Invalid
from shared.http import (
    QUERY,
    empty,
    input_fields,
    input_value,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)

bp = app_blueprint("autoscale", __name__)

_ERRORS = {404: "App not found", 409: "The app is locked by another operation"}
_PREFIXES = ("unable to parse as json: ", "unable to decode form: ")


@bp.route("/apps/<app>/units/autoscale", methods=["GET"])
@bp.output(200, list_of(AutoscaleInfo, nullable=True))
@bp.errors({404: "App not found"})
@requires("app.read")
def autoscale_info(app: str) -> Response:
    return json_response(autoscale.autoscale_info(deps(), require_identity(), app))


@bp.route("/apps/<app>/units/autoscale", methods=["POST"])
@bp.input(AutoscaleSpec)
@bp.output(200, description="Autoscale set")
@bp.errors(400, _ERRORS)
@requires("app.update.unit.autoscale.add")
def add_autoscale(app: str) -> Response:
    try:
        spec = parse_input(AutoscaleSpec())
    except Invalid as exc:
        why = exc.message
        for prefix in _PREFIXES:
            why = why.removeprefix(prefix)
        raise AutoscaleParse(why) from exc
    autoscale.add_autoscale(deps(), require_identity(), app, spec, input_fields())
    return empty()


@bp.route("/apps/<app>/units/autoscale", methods=["DELETE"])
@bp.input(AutoscaleProcessQuery, QUERY)
@bp.output(200, description="Autoscale removed")
@bp.errors(_ERRORS)
@requires("app.update.unit.autoscale.remove")
def remove_autoscale(app: str) -> Response:
    autoscale.remove_autoscale(
        deps(), require_identity(), app, input_value("process"), input_fields()
    )
    return empty()
