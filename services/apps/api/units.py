"""Unit operations (apps.md §8, §9.2): add/remove units, restart/start/stop/sleep and
run, each an x-json-stream of what the provisioner writes."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from services.apps.api.deploy_schemas import ProcessInput, RunInput, SleepInput, UnitsInput
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.operations import units
from services.apps.operations.units import UnitSelector
from shared.http import (
    JSON_STREAM,
    QUERY,
    StreamWriter,
    input_fields,
    input_value,
    require_identity,
    requires,
    stream,
)

bp = app_blueprint("units", __name__)

_ERRORS = {404: "App not found", 409: "The app is locked by another operation"}

Operation = Callable[[Callable[[str], None]], None]


def _streamed(operation: Operation) -> Response:
    def run(writer: StreamWriter) -> None:
        operation(writer.write)

    return stream(run)


def _selector() -> UnitSelector:
    return UnitSelector(process=input_value("process"), version=input_value("version"))


def _scale(add: bool, app: str) -> Response:
    # tsuru checks the number of units before the app's permission.
    n = units.number_of_units(input_value("units"))
    identity, which, fields, bundle = require_identity(), _selector(), input_fields(), deps()
    act = units.add_units if add else units.remove_units
    return _streamed(lambda write: act(bundle, identity, app, n, which, fields, write))


@bp.route("/apps/<app>/units", methods=["PUT"])
@bp.input(UnitsInput)
@bp.output(200, JSON_STREAM, description="Units added")
@bp.errors(400, _ERRORS)
@requires("app.update.unit.add")
def add_units(app: str) -> Response:
    return _scale(True, app)


@bp.route("/apps/<app>/units", methods=["DELETE"])
@bp.input(UnitsInput, QUERY)
@bp.output(200, JSON_STREAM, description="Units removed")
@bp.errors(400, _ERRORS)
@requires("app.update.unit.remove")
def remove_units(app: str) -> Response:
    return _scale(False, app)


def _lifecycle(action: str, app: str) -> Response:
    identity, which, fields, bundle = require_identity(), _selector(), input_fields(), deps()
    return _streamed(
        lambda write: units.lifecycle(bundle, identity, app, action, which, fields, write)
    )


def _lifecycle_route(action: str, permission: str) -> None:
    """POST /apps/<app>/<action>: restart, start and stop differ only in their action
    and permission (the endpoint keeps the action's name)."""

    @bp.route(f"/apps/<app>/{action}", methods=["POST"], endpoint=action)
    @bp.input(ProcessInput)
    @bp.output(200, JSON_STREAM)
    @bp.errors(400, _ERRORS)
    @requires(permission)
    def view(app: str) -> Response:
        return _lifecycle(action, app)


_lifecycle_route("restart", "app.update.restart")
_lifecycle_route("start", "app.update.start")
_lifecycle_route("stop", "app.update.stop")


@bp.route("/apps/<app>/sleep", methods=["POST"])
@bp.input(SleepInput)
@bp.output(200, JSON_STREAM)
@bp.errors(400, _ERRORS)
@requires("app.update.sleep")
def sleep(app: str) -> Response:
    identity, which, fields, bundle = require_identity(), _selector(), input_fields(), deps()
    proxy = input_value("proxy")
    return _streamed(lambda write: units.sleep(bundle, identity, app, proxy, which, fields, write))


@bp.route("/apps/<app>/run", methods=["POST"])
@bp.input(RunInput)
@bp.output(200, JSON_STREAM)
@bp.errors(400, _ERRORS)
@requires("app.run")
def run(app: str) -> Response:
    identity, fields, bundle = require_identity(), input_fields(), deps()
    command, once, isolated = input_value("command"), input_value("once"), input_value("isolated")
    return _streamed(
        lambda write: units.run(bundle, identity, app, command, once, isolated, fields, write)
    )
