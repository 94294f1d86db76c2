"""The app log (apps.md §7): read (optionally following) and append."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, Response, request

from services.apps.api.apps import flag
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.api.schemas import LogInput, LogQuery
from services.apps.domain.models import LogLine
from services.apps.operations import log_intake as log_intake_op
from services.apps.operations import logs
from shared.errors import Invalid
from shared.http import (
    JSON_STREAM,
    QUERY,
    Blueprint,
    current_identity,
    empty,
    input_value,
    input_values,
    no_event,
    public,
    require_identity,
    requires,
)
from shared.http.responses import dumps
from shared.http.stream import MIMETYPE
from shared.http.websocket import Closed, HandshakeError, Hijacking, accept, hijacked

bp: Blueprint = app_blueprint("logs", __name__)


def entry(app: str, line: LogLine) -> dict[str, str]:
    return {"Date": line.date, "Message": line.message, "Source": line.source,
            "AppName": app, "Unit": line.unit}  # fmt: skip


def _page(app: str, lines: list[LogLine]) -> str:
    return dumps([entry(app, x) for x in lines]) + "\n"


def _following(app: str, feed: Iterator[list[LogLine] | None]) -> Iterator[bytes]:
    # Bytes: gunicorn writes passthrough items as they are.
    try:
        for got in feed:
            if got is None:
                return
            if not got:
                yield b"\n"  # keep-alive: JSON decoders skip it; a gone client shows
                continue
            for line in got:
                yield _page(app, [line]).encode()
    finally:
        close = getattr(feed, "close", None)
        if close is not None:
            close()


def _read(app: str) -> Response:
    flt = logs.LogFilter(
        source=input_value("source"),
        invert_source=flag("invert-source"),
        units=tuple(u for u in input_values("unit") if u),
    )
    req = logs.check_read(deps(), require_identity(), app, input_value("lines"), flt)
    if not flag("follow"):
        return Response(_page(req.app, logs.first_page(deps(), req)), mimetype=MIMETYPE)
    body = _following(req.app, logs.follow(deps(), req))
    return Response(body, mimetype=MIMETYPE, direct_passthrough=True)


@bp.route("/apps/<app>/log", methods=["GET"])
@bp.input(LogQuery, QUERY)
@bp.output(200, JSON_STREAM, description="An array of entries, then one per new entry")
@bp.errors(400, {404: "App not found"})
@requires("app.read.log")
def read_log(app: str) -> Response:
    return _read(app)


@bp.route("/apps/<app>/log-instance", methods=["GET"])
@bp.input(LogQuery, QUERY)
@bp.output(200, JSON_STREAM, description="As GET /apps/{app}/log (one log for all instances)")
@bp.errors(400, {404: "App not found"})
@requires("app.read.log")
def read_log_instance(app: str) -> Response:
    return _read(app)


@bp.route("/apps/<app>/log", methods=["POST"])
@bp.input(LogInput)
@bp.output(200, description="Lines appended")
@bp.errors(400, {404: "App not found"})
@no_event("tsuru records no event for log lines")
@requires("app.update.log")
def post_log(app: str) -> Response:
    logs.post(
        deps(),
        require_identity(),
        app,
        input_values("message"),
        input_value("source"),
        input_value("unit"),
    )
    return empty()


@bp.record_once
def _install_hijacking(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]
    if not isinstance(app.wsgi_app, Hijacking):
        app.wsgi_app = Hijacking(app.wsgi_app)  # type: ignore[method-assign]


# As the shell: websocket handshakes reach the first rule, plain GETs the second.
@bp.route("/logs", methods=["GET"], websocket=True)
@bp.route("/logs", methods=["GET"], endpoint="log_intake_plain")
@bp.output(101, description="Switching Protocols: the log intake's websocket")
@bp.errors({400: "Not a websocket handshake"})
@public
def log_intake() -> Response:
    # tsuru answers every refusal, the missing token included, after the upgrade.
    try:
        ws = accept(request.environ)
    except HandshakeError as exc:
        raise Invalid(f"websocket: {exc}") from exc
    log_intake_op.intake(deps(), current_identity(), ws, Closed)
    return hijacked()
