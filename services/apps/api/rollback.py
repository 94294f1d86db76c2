"""Rollback, rollback update, rebuild (apps.md §6.3-§6.5) and version removal (§9.1)."""

from __future__ import annotations

from flask import Response

from services.apps.api.deploy_schemas import RebuildInput, RollbackInput, RollbackUpdateInput
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.domain import deploys as d
from services.apps.domain.deploy_errors import InvalidOrigin
from services.apps.operations import rollback
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    JSON_STREAM,
    StreamWriter,
    empty,
    input_fields,
    input_value,
    require_identity,
    requires,
    stream,
)

bp = app_blueprint("rollback", __name__)

_APP_ERRORS = {404: "App not found", 409: "The app is locked by another operation"}


def _flag(name: str) -> bool:
    try:
        return parse_bool(input_value(name))
    except NumError:
        return False  # tsuru ignores these ParseBool errors


def _origin(*, required: bool) -> str:
    origin = input_value("origin")
    if (origin or required) and not d.valid_origin(origin):
        raise InvalidOrigin()
    return origin


@bp.route("/apps/<app>/deploy/rollback", methods=["POST"])
@bp.input(RollbackInput)
@bp.output(200, JSON_STREAM)
@bp.errors(400, _APP_ERRORS)
@requires("app.deploy")
def deploy_rollback(app: str) -> Response:
    identity = require_identity()
    image = input_value("image")
    opts = d.DeployOptions(
        app=app,
        kind=d.ROLLBACK,
        user=identity.name,
        image=image,
        origin=_origin(required=False) if image else input_value("origin"),
        new_version=_flag("new-version"),
        override_versions=_flag("override-versions"),
    )
    bundle = deps()

    def operation(writer: StreamWriter) -> None:
        rollback.rollback(bundle, identity, opts, writer.write)

    return stream(operation)


@bp.route("/apps/<app>/deploy/rebuild", methods=["POST"])
@bp.input(RebuildInput)
@bp.output(200, JSON_STREAM)
@bp.errors(400, _APP_ERRORS)
@requires("app.deploy")
def deploy_rebuild(app: str) -> Response:
    identity = require_identity()
    opts = d.DeployOptions(
        app=app,
        kind=d.REBUILD,
        user=identity.name,
        # tsuru requires a valid origin here (the CLI sends "rebuild").
        origin=_origin(required=True),
        new_version=_flag("new-version"),
        override_versions=_flag("override-versions"),
    )
    bundle = deps()

    def operation(writer: StreamWriter) -> None:
        rollback.rebuild(bundle, identity, opts, writer.write)

    return stream(operation)


@bp.route("/apps/<app>/deploy/rollback/update", methods=["PUT"])
@bp.input(RollbackUpdateInput)
@bp.output(200, description="Rollback updated")
@bp.errors(400, {404: "App not found", 409: "The app is locked by another operation"})
@requires("app.update.deploy.rollback")
def rollback_update(app: str) -> Response:
    rollback.rollback_update(
        deps(),
        require_identity(),
        app,
        input_value("image"),
        input_value("disable"),
        input_value("reason"),
        input_fields(),
    )
    return empty()


@bp.route("/apps/<app>/versions/<version>", methods=["DELETE"])
@bp.output(200, JSON_STREAM)
@bp.errors({404: "App or version not found", 409: "The app is locked by another operation"})
@requires("app.update")
def delete_version(app: str, version: str) -> Response:
    identity = require_identity()
    fields = input_fields()
    bundle = deps()

    def operation(writer: StreamWriter) -> None:
        rollback.delete_version(bundle, identity, app, version, fields, writer.write)

    return stream(operation)
