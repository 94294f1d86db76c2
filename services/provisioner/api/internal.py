"""Internal calls of the catalogue (docs/runtime.md): placement for the apps context,
pool lookups for the catalog."""

from __future__ import annotations

from flask import Response

from services.provisioner.api import responses as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters import placement_json
from services.provisioner.api.schemas import PlacementInput, ServiceNames, TeamNames
from services.provisioner.operations import internal as ops
from services.provisioner.operations.placement import PlacementRequest, place
from shared.http import JSON, Blueprint, internal, json_body, json_response, parse_input

bp = Blueprint("provisioner_internal", __name__)


@bp.route("/internal/placement", methods=["POST"])
@bp.input(PlacementInput, JSON)
@bp.output(200, out.PlacementAnswer)
@bp.errors({400: "The pool, plan, router or platform cannot be used (tsuru's text)"})
@internal
def placement() -> Response:
    data = parse_input(PlacementInput())
    req = PlacementRequest(
        team_owner=data["team_owner"],
        pool=data["pool"],
        plan=data["plan"],
        router=data["router"],
        routeropts=data["routeropts"],
        platform=data["platform"],
        routers=data["routers"],
    )
    return json_response(placement_json(place(deps(), req)))


@bp.route("/internal/pools/<name>", methods=["GET"])
@bp.output(200, out.InternalPool)
@bp.errors({404: "Pool does not exist."})
@internal
def pool(name: str) -> Response:
    found, provisioner, cluster = ops.pool_with_cluster(deps(), name)
    shown = None
    if cluster is not None:
        shown = {"name": cluster.name, "provisioner": cluster.provisioner,
                 "addresses": list(cluster.addresses)}  # fmt: skip
    return json_response({"name": found.name, "provisioner": provisioner, "cluster": shown})


@bp.route("/internal/pools/<name>/services", methods=["POST"])
@bp.input(ServiceNames, JSON)
@bp.output(200, out.AllowedNames)
@bp.errors({404: "Pool does not exist."})
@internal
def pool_services(name: str) -> Response:
    data = parse_input(ServiceNames())
    return json_response({"allowed": ops.allowed_services(deps(), name, data["services"])})


@bp.route("/internal/pools/visible", methods=["POST"])
@bp.input(TeamNames, JSON)
@bp.output(200, out.PoolNames)
@internal
def visible_pools() -> Response:
    body = json_body() or {}
    # null (or no key) means every pool; parse_input would read null as [null].
    teams = parse_input(TeamNames())["teams"] if body.get("teams") is not None else None
    return json_response({"pools": ops.visible_pools(deps(), teams)})
