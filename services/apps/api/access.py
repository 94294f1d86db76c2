"""Team access and the app quota (apps.md §9.1, §9.5)."""

from __future__ import annotations

from flask import Response

from services.apps.api import responses as out
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.api.schemas import QuotaInput
from services.apps.operations import access, quota
from shared.http import (
    Blueprint,
    empty,
    input_fields,
    input_value,
    json_response,
    require_identity,
    requires,
)

bp: Blueprint = app_blueprint("access", __name__)


@bp.route("/apps/<app>/teams/<team>", methods=["PUT"])
@bp.output(200, description="Access granted")
@bp.errors({404: "App or team not found"}, {409: "Grant already exists"})
@requires("app.update.grant")
def grant(app: str, team: str) -> Response:
    access.grant(deps(), require_identity(), app, team, input_fields())
    return empty()


@bp.route("/apps/<app>/teams/<team>", methods=["DELETE"])
@bp.output(200, description="Access revoked")
@bp.errors({403: "The only team of the app cannot lose access"}, {404: "App or team not found"})
@requires("app.update.revoke")
def revoke(app: str, team: str) -> Response:
    access.revoke(deps(), require_identity(), app, team, input_fields())
    return empty()


@bp.route("/apps/<app>/quota", methods=["GET"])
@bp.output(200, out.Quota)
@bp.errors({404: "App not found"})
@requires("app.read")
def get_quota(app: str) -> Response:
    q = quota.get_quota(deps(), require_identity(), app)
    return json_response({"limit": q.limit, "inuse": q.inuse})


@bp.route("/apps/<app>/quota", methods=["PUT"])
@bp.input(QuotaInput)
@bp.output(200, description="Quota changed")
@bp.errors(400, {403: "Below the units in use"}, {404: "App not found"})
@requires("app.admin.quota")
def set_quota(app: str) -> Response:
    quota.set_quota(deps(), require_identity(), app, input_value("limit"), input_fields())
    return empty()
