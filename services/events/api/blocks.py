"""GET/POST /events/blocks, DELETE /events/blocks/{uuid} (route version 1.3)."""

from __future__ import annotations

from flask import Response, request

from services.events.api import responses as out
from services.events.api.deps import deps
from services.events.api.presenters import block_json
from services.events.api.schemas import BlockSchema
from services.events.operations import blocks
from shared.http import (
    QUERY,
    Blueprint,
    empty,
    input_fields,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)
from shared.permissions import ensure

bp = Blueprint("event_blocks", __name__)


@bp.route("/events/blocks", methods=["GET"])
@bp.input(out.BlockQuery, QUERY)
@bp.output(200, list_of(out.BlockInfo))
@bp.output(204, description="No block")
@requires("event-block.read")
def list_blocks() -> Response:
    found = blocks.list_blocks(deps(), require_identity(), request.args.get("active"))
    return json_response([block_json(b) for b in found]) if found else empty(204)


@bp.route("/events/blocks", methods=["POST"])
@bp.input(BlockSchema)
@bp.output(200, description="Block added")
@bp.errors({400: "Invalid data or empty reason"})
@requires("event-block.add")
def add_block() -> Response:
    identity = require_identity()
    # tsuru checks before decoding the body (the operation checks it again).
    ensure(identity, "event-block.add")
    data = parse_input(BlockSchema())
    blocks.add_block(deps(), identity, data, input_fields())
    return empty(200)


@bp.route("/events/blocks/<uuid>", methods=["DELETE"])
@bp.output(200, description="Block removed")
@bp.errors({400: "Invalid uuid"}, {404: "Active block with provided uuid not found"})
@requires("event-block.remove")
def remove_block(uuid: str) -> Response:
    blocks.remove_block(deps(), require_identity(), uuid)
    return empty(200)
