"""``POST /node/status`` (apps.md §9.2): node agents report their units, with the
internal ``tsr`` token."""

from __future__ import annotations

from flask import Response

from services.apps.api.deploy_schemas import NodeStatusInput, UnitFound
from services.apps.api.deps import deps
from services.apps.operations import nodes
from shared.http import (
    Blueprint,
    authenticated,
    json_response,
    list_of,
    no_event,
    parse_input,
    require_identity,
)

bp = Blueprint("nodes", __name__)


@bp.route("/node/status", methods=["POST"])
@bp.input(NodeStatusInput)
@bp.output(200, list_of(UnitFound))
@bp.errors(400, {403: "this token is not allowed to execute this action"})
@no_event("tsuru records no event for node agents' reports")
@authenticated("only the internal tsr token is served; others get 403")
def node_status() -> Response:
    identity = require_identity()
    nodes.ensure_internal(identity)
    report = parse_input(NodeStatusInput())
    return json_response(nodes.node_status(deps(), identity, report))
