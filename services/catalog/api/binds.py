"""Bind and unbind an instance to an app (catalog.md §3), streamed."""

from __future__ import annotations

from flask import Response

from services.catalog.api.common import event_fields
from services.catalog.api.deps import deps
from services.catalog.api.schemas import BindInput, UnbindQuery
from services.catalog.operations import binds as ops
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    JSON_STREAM,
    QUERY,
    Blueprint,
    StreamWriter,
    input_value,
    parse_input,
    require_identity,
    requires,
    stream,
)

bp = Blueprint("binds", __name__)

ROUTE = "/services/<service>/instances/<instance>/<app>"


def _bool(name: str) -> bool:
    """tsuru: ``strconv.ParseBool(InputValue(r, name))``, a parse error being false."""
    try:
        return parse_bool(input_value(name))
    except NumError:
        return False


@bp.route(ROUTE, methods=["PUT"])
@bp.input(BindInput, description="`parameters.<k>=v` go to the service API")
@bp.output(200, JSON_STREAM)
@bp.errors(
    {
        400: "Invalid data, already bound, or not available in the app's pool",
        404: "Instance or app not found",
        409: "The app is locked by another operation",
        500: "The service API failed",
    }
)
@requires("service-instance.update.bind", "app.update.bind")
def bind(service: str, instance: str, app: str) -> Response:
    data = parse_input(BindInput())
    d, identity, fields = deps(), require_identity(), event_fields()

    def run(writer: StreamWriter) -> None:
        ops.bind(
            d, identity, service, instance, app, params=data["parameters"] or {},
            restart=not data["noRestart"], fields=fields, writer=writer.write,
        )  # fmt: skip

    return stream(run)


@bp.route(ROUTE, methods=["DELETE"])
@bp.input(UnbindQuery, QUERY)
@bp.output(200, JSON_STREAM)
@bp.errors(
    {
        400: "The app is not bound to the instance",
        404: "Instance or app not found",
        409: "The app is locked by another operation",
        500: "The service API failed",
    }
)
@requires("service-instance.update.unbind", "app.update.unbind", "service.update")
def unbind(service: str, instance: str, app: str) -> Response:
    d, identity, fields = deps(), require_identity(), event_fields()
    restart, force = not _bool("noRestart"), _bool("force")

    def run(writer: StreamWriter) -> None:
        ops.unbind(
            d, identity, service, instance, app, restart=restart, force=force,
            fields=fields, writer=writer.write,
        )  # fmt: skip

    return stream(run)
