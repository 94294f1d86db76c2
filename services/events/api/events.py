"""GET /events, GET /events/kinds, GET /events/{uuid}, POST /events/{uuid}/cancel."""

from __future__ import annotations

from flask import Response, request

from services.events.api import responses as out
from services.events.api.deps import deps
from services.events.operations import events
from shared.http import (
    QUERY,
    Blueprint,
    empty,
    input_value,
    json_response,
    list_of,
    require_identity,
    requires,
)

bp = Blueprint("events", __name__)

# GET /events and /events/kinds need a token but check no permission up front
# (tsuru filters the list by permission instead); the marker names the read scheme.
READ = "app.read.events"


@bp.route("/events", methods=["GET"])
@bp.input(out.EventQuery, QUERY)
@bp.output(200, list_of(out.Event))
@bp.output(204, description="No event visible to the caller")
@bp.errors(400)
@requires(READ)
def list_events() -> Response:
    found = events.list_events(deps().events, require_identity(), dict(request.args.lists()))
    return json_response(found) if found else empty(204)


@bp.route("/events/kinds", methods=["GET"])
@bp.output(200, list_of(out.NamedType))
@bp.output(204, description="No event recorded yet")
@requires(READ)
def list_kinds() -> Response:
    require_identity()
    kinds = events.list_kinds(deps().events)
    return json_response(kinds) if kinds else empty(204)


@bp.route("/events/<uuid>", methods=["GET"])
@bp.output(200, out.Event)
@bp.errors({400: "Invalid uuid"}, {404: "Event not found"})
@requires(READ)
def event_info(uuid: str) -> Response:
    return json_response(events.get_event(deps().events, require_identity(), uuid))


# The real check is the event's AllowedCancel scheme, in the operation.
@bp.route("/events/<uuid>/cancel", methods=["POST"])
@bp.input(out.CancelInput)
@bp.output(204, description="Cancel requested")
@bp.errors(
    {400: "Invalid uuid, empty reason or not cancelable"},
    {404: "Event not found"},
    {409: "Cancel already requested"},
)
@requires("app.update.events")
def cancel(uuid: str) -> Response:
    events.cancel_event(deps().events, require_identity(), uuid, input_value("reason"))
    return empty(204)
