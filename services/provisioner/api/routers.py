"""Router management (provisioning.md §3.13)."""

from __future__ import annotations

from flask import Response

from services.provisioner.api import responses as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters import router_json
from services.provisioner.api.schemas import RouterInput
from services.provisioner.domain.models import DynamicRouter
from services.provisioner.operations import routers
from shared.http import (
    Blueprint,
    authenticated,
    empty,
    input_fields,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("routers", __name__)


def _list() -> Response:
    found = routers.list_routers(deps(), require_identity())
    return json_response([router_json(r) for r in found]) if found else empty(204)


@bp.route("/routers", methods=["GET"])
@bp.output(200, list_of(out.RouterInfo))
@bp.output(204, description="No router")
@authenticated("lists the routers the caller's teams may use; config for router creators")
def list_routers() -> Response:
    return _list()


@bp.route("/plans/routers", methods=["GET"])
@bp.output(200, list_of(out.RouterInfo))
@bp.output(204, description="No router")
@authenticated("tsuru 1.0's spelling of GET /routers")
def list_plan_routers() -> Response:
    return _list()


@bp.route("/routers", methods=["POST"])
@bp.input(RouterInput)
@bp.output(201, description="Router created")
@bp.errors({400: "Invalid router", 409: "Router already exists"})
@requires("router.create")
def add_router() -> Response:
    data = parse_input(RouterInput())
    router = DynamicRouter(data["name"], data["type"], tuple(data["readinessGates"]),
                           dict(data["config"]))  # fmt: skip
    routers.add_router(deps(), require_identity(), router, input_fields())
    return empty(201)


@bp.route("/routers/<name>", methods=["PUT"])
@bp.input(RouterInput, description="`type` and `config` keys to change (null deletes a key)")
@bp.output(200, description="Router updated")
@bp.errors({400: "Invalid router", 404: "Router not found"})
@requires("router.update")
def update_router(name: str) -> Response:
    data = parse_input(RouterInput())
    routers.update_router(
        deps(), require_identity(), name, data["type"], dict(data["config"]), input_fields()
    )
    return empty(200)


@bp.route("/routers/<name>", methods=["DELETE"])
@bp.output(200, description="Router removed")
@bp.errors({404: "Router not found"})
@requires("router.delete")
def delete_router(name: str) -> Response:
    routers.delete_router(deps(), require_identity(), name, input_fields())
    return empty(200)
