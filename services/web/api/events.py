"""The event log: filters, pages, and each event with its log."""

from __future__ import annotations

from flask import Response

from services.web.api.deps import deps
from services.web.api.pages import arg, page
from services.web.api.render import page as render
from services.web.api.security import PREFIX, signed_in
from services.web.domain.session import Session
from services.web.operations import events as ops
from shared.http import Blueprint

bp = Blueprint("web_events", __name__, url_prefix=PREFIX)


@bp.route("/events", methods=["GET"])
@page("Events the user may see, newest first, with filters")
@signed_in
def events(session: Session) -> Response:
    filters = {k: arg(k, 256) for k in ops.FILTERS}
    raw_skip = arg("skip", 9)
    skip = int(raw_skip) if raw_skip.isdigit() else 0
    found = ops.events(deps(), session, filters, skip)
    return render(
        "events.html",
        events=found,
        filters={k: v for k, v in filters.items() if v},
        skip=skip,
    )


@bp.route("/events/<uuid>", methods=["GET"])
@page("One event and its log")
@signed_in
def event(session: Session, uuid: str) -> Response:
    return render("event.html", event=ops.event(deps(), session, uuid))
