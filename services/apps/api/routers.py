"""App routers and swap (apps.md §9.4, §9.6), under tsuru's plural paths and the
seed's singular spellings."""

from __future__ import annotations

from flask import Response

from services.apps.api import responses as out
from services.apps.api.apps import flag
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.api.presenters import router_json
from services.apps.api.schemas import RoutableInput, RouterInput, SwapInput
from services.apps.operations import routers, swap
from shared.http import (
    Blueprint,
    empty,
    input_fields,
    input_present,
    input_value,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)

bp: Blueprint = app_blueprint("routers", __name__)


@bp.route("/apps/<app>/routers", methods=["GET"])
@bp.route("/app/<app>/routers", methods=["GET"])
@bp.output(200, list_of(out.AppRouter))
@bp.output(204, description="The app has no router")
@bp.errors({404: "App not found"})
@requires("app.read.router")
def list_routers(app: str) -> Response:
    shown = routers.list_routers(deps(), require_identity(), app)
    if not shown:
        return empty(204)
    return json_response([router_json(s.router, s.address, live=True) for s in shown])


@bp.route("/apps/<app>/routers", methods=["POST"])
@bp.route("/app/<app>/routers", methods=["POST"])
@bp.input(RouterInput)
@bp.output(200, description="Router added")
@bp.errors(400, {404: "App or router not found"}, {409: "Router already linked"})
@requires("app.update.router.add")
def add_router(app: str) -> Response:
    data = parse_input(RouterInput())
    routers.add_router(deps(), require_identity(), app, data["name"], data["opts"], input_fields())
    return empty()


@bp.route("/apps/<app>/routers/<router>", methods=["PUT"])
@bp.route("/app/<app>/routers/<router>", methods=["PUT"])
@bp.input(RouterInput)
@bp.output(200, description="Router options replaced")
@bp.errors(400, {404: "App or router not found"})
@requires("app.update.router.update")
def update_router(app: str, router: str) -> Response:
    data = parse_input(RouterInput())
    routers.update_router(deps(), require_identity(), app, router, data["opts"], input_fields())
    return empty()


@bp.route("/apps/<app>/routers/<router>", methods=["DELETE"])
@bp.route("/app/<app>/routers/<router>", methods=["DELETE"])
@bp.output(200, description="Router removed")
@bp.errors({404: "App or router not found"})
@requires("app.update.router.remove")
def remove_router(app: str, router: str) -> Response:
    routers.remove_router(deps(), require_identity(), app, router, input_fields())
    return empty()


@bp.route("/apps/<app>/routable", methods=["POST"])
@bp.route("/app/<app>/routable", methods=["POST"])
@bp.input(RoutableInput)
@bp.output(200, description="The version's units (do not) get traffic")
@bp.errors(400, {404: "App not found"})
@requires("app.update.routable")
def set_routable(app: str) -> Response:
    data = parse_input(RoutableInput())
    routers.set_routable(
        deps(), require_identity(), app, data["version"], data["isRoutable"], input_fields()
    )
    return empty()


@bp.route("/swap", methods=["POST"])
@bp.input(SwapInput)
@bp.output(200, description="Swapped")
@bp.errors(400, {404: "App not found"}, {409: "An app is locked"}, {412: "Apps do not match"})
@requires("app.update.swap")
def swap_apps() -> Response:
    force = input_value("force") if input_present("force") else None
    swap.swap(
        deps(),
        require_identity(),
        input_value("app1"),
        input_value("app2"),
        force,
        flag("cnameOnly"),
        input_fields(),
    )
    return empty()
