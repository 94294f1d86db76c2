"""Internal routes of the runtime (docs/runtime.md "Synchronous internal calls"): units
of apps in tsuru's Unit JSON, unit agent reports relayed by apps, the route table the
gateway loads, and unit autoscale settings."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from services.provisioner.api import runtime_schemas as schemas
from services.provisioner.api.runtime_deps import runtime_stores
from services.provisioner.api.unit_json import route_json, units_json
from services.provisioner.domain.runtime_errors import InvalidCommand, RouteNotFound
from services.provisioner.operations.runtime import reads
from shared.http import JSON, QUERY, Blueprint, internal, json_body, json_response

bp = Blueprint("runtime", __name__)

OBJECT: dict[str, Any] = {"type": "object"}
ARRAY: dict[str, Any] = {"type": "array", "items": {"type": "object"}}


def _body() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidCommand("the body must be a JSON object")
    return body


@bp.route("/internal/apps/<app>/units", methods=["GET"])
@bp.output(200, ARRAY, description="The app's units (tsuru Unit objects)")
@internal
def app_units(app: str) -> Response:
    return json_response(units_json(reads.units_of(runtime_stores(), app)))


@bp.route("/internal/units", methods=["POST"])
@bp.input(schemas.AppsInput, JSON)
@bp.output(200, OBJECT, description="Units of each app asked, by app name")
@bp.errors(400)
@internal
def apps_units() -> Response:
    apps = _body().get("apps") or []
    if not isinstance(apps, list) or not all(isinstance(a, str) for a in apps):
        raise InvalidCommand("apps must be a list of names")
    found = reads.units_of_apps(runtime_stores(), apps)
    return json_response({"units": {owner.app: units_json(owner) for owner in found}})


@bp.route("/internal/apps/<app>/route", methods=["GET"])
@bp.output(200, OBJECT, description="The app's route")
@bp.errors({404: "The app has no route"})
@internal
def app_route(app: str) -> Response:
    route = reads.route_of(runtime_stores(), app)
    if route is None:
        raise RouteNotFound()
    return json_response(route_json(route))


@bp.route("/internal/routes", methods=["GET"])
@bp.output(200, OBJECT, description="The whole route table with its seq")
@internal
def routes() -> Response:
    seq, table = reads.route_table(runtime_stores())
    return json_response({"seq": seq, "routes": [route_json(r) for r in table]})


@bp.route("/internal/apps/<app>/units/register", methods=["POST"])
@bp.input(schemas.RegisterInput, JSON)
@bp.output(200, OBJECT)
@bp.errors(400, {404: 'unit "<hostname>" not found'})
@internal
def register(app: str) -> Response:
    body = _body()
    hostname = body.get("hostname") or ""
    if not isinstance(hostname, str):
        raise InvalidCommand("hostname must be a string")
    reads.register_unit(runtime_stores(), app, hostname, body.get("customdata"))
    return json_response({})


@bp.route("/internal/apps/<app>/units/<unit>/status", methods=["POST"])
@bp.input(schemas.StatusInput, JSON)
@bp.output(200, OBJECT)
@bp.errors({400: "invalid status", 404: 'unit "<unit>" not found'})
@internal
def unit_status(app: str, unit: str) -> Response:
    reads.set_unit_status(runtime_stores(), app, unit, _body().get("status"))
    return json_response({})


@bp.route("/internal/node/status", methods=["POST"])
@bp.input(schemas.NodeStatusInput, JSON)
@bp.output(200, ARRAY, description="Whether each reported unit is known")
@bp.errors(400)
@internal
def node_status() -> Response:
    units = _body().get("Units") or []
    if not isinstance(units, list):
        raise InvalidCommand("Units must be a list")
    return json_response(reads.node_status(runtime_stores(), units))


@bp.route("/internal/apps/<app>/autoscale", methods=["GET"])
@bp.output(200, ARRAY, description="The app's autoscale settings")
@internal
def autoscale(app: str) -> Response:
    return json_response([s.to_json() for s in reads.autoscale_of(runtime_stores(), app)])


@bp.route("/internal/apps/<app>/autoscale", methods=["POST"])
@bp.input(schemas.AutoscaleInput, JSON)
@bp.output(200, OBJECT)
@bp.errors({400: "unable to validate autoscale spec: <why>"})
@internal
def set_autoscale(app: str) -> Response:
    reads.set_autoscale(runtime_stores(), app, _body())
    return json_response({})


@bp.route("/internal/apps/<app>/autoscale", methods=["DELETE"])
@bp.input(schemas.ProcessQuery, QUERY)
@bp.output(200, OBJECT)
@internal
def remove_autoscale(app: str) -> Response:
    reads.remove_autoscale(runtime_stores(), app, request.args.get("process", ""))
    return json_response({})
