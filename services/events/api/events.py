"""GET /events, GET /events/kinds, GET /events/{uuid}, POST /events/{uuid}/cancel."""

from __future__ import annotations

from flask import Response, request

from services.events.api import responses as out
from services.events.api.deps import deps
from services.events.domain.render import event_json, kind_json
from services.events.operations import events
from shared.http import (
    QUERY,
    Blueprint,
    authenticated,
    empty,
    input_value,
    json_response,
    list_of,
    no_event,
    require_identity,
)

bp = Blueprint("events", __name__)


@bp.route("/events", methods=["GET"])
@bp.input(out.EventQuery, QUERY)
@bp.output(200, list_of(out.Event))
@bp.output(204, description="No event visible to the caller")
@bp.errors(400)
@authenticated("no permission up front: the list holds the events the caller may see")
def list_events() -> Response:
    found = events.list_events(deps(), require_identity(), dict(request.args.lists()))
    return json_response([event_json(r) for r in found]) if found else empty(204)


@bp.route("/events/kinds", methods=["GET"])
@bp.output(200, list_of(out.NamedType))
@bp.output(204, description="No event recorded yet")
@authenticated("tsuru lists the kinds to any token")
def list_kinds() -> Response:
    kinds = events.list_kinds(deps())
    return json_response([kind_json(k) for k in kinds]) if kinds else empty(204)


@bp.route("/events/<uuid>", methods=["GET"])
@bp.output(200, out.Event)
@bp.errors({400: "Invalid uuid"}, {404: "Event not found"})
@authenticated("checks the event's own Allowed permission")
def event_info(uuid: str) -> Response:
    return json_response(event_json(events.get_event(deps(), require_identity(), uuid)))


@bp.route("/events/<uuid>/cancel", methods=["POST"])
@bp.input(out.CancelInput)
@bp.output(204, description="Cancel requested")
@bp.errors(
    {400: "Invalid uuid, empty reason or not cancelable"},
    {404: "Event not found"},
    {409: "Cancel already requested"},
)
@no_event("tsuru marks the running event itself; no event of its own")
@authenticated("checks the event's own AllowedCancel permission")
def cancel(uuid: str) -> Response:
    events.cancel_event(deps(), require_identity(), uuid, input_value("reason"))
    return empty(204)
