"""``GET /deploys`` and ``GET /deploys/{deploy}`` (apps.md §6.8, §6.9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, request

from services.apps.api.deploy_schemas import DeployData, DeployListQuery
from services.apps.api.deps import deps
from services.apps.domain.deploys import DeployRecord, image_version
from services.apps.operations import deploy_list
from shared.golang.times import rfc3339nano
from shared.http import (
    QUERY,
    Blueprint,
    authenticated,
    empty,
    json_response,
    list_of,
    require_identity,
    requires,
)

bp = Blueprint("deploy_list", __name__)


def deploy_json(
    record: DeployRecord, now: datetime, *, can_rollback: bool = False, log: str = ""
) -> dict[str, Any]:
    """tsuru's DeployData: Go field names; ``Duration`` in nanoseconds; ``Version``
    read from an image ending in ``:v<N>``."""
    return {
        "ID": record.id,
        "App": record.app,
        "Timestamp": rfc3339nano(record.timestamp),
        "Duration": record.duration_ns(now),
        "Commit": record.commit,
        "Error": record.error,
        "Image": record.image,
        "Version": image_version(record.image),
        "Log": log,
        "User": record.user,
        "Origin": record.origin,
        "CanRollback": can_rollback,
        "Diff": "",
        "Message": record.message,
    }


@bp.route("/deploys", methods=["GET"])
@bp.input(DeployListQuery, QUERY)
@bp.output(200, list_of(DeployData))
@bp.output(204, description="No deploy visible to the caller")
@authenticated("lists the deploys of the apps where the caller holds app.read.deploy")
def list_deploys() -> Response:
    skip, limit = deploy_list.page_bounds(
        request.args.get("skip", ""), request.args.get("limit", "")
    )
    bundle = deps()
    found = deploy_list.list_deploys(
        bundle, require_identity(), request.args.get("app", ""), skip, limit
    )
    if not found:
        return empty(204)
    now = bundle.clock()
    return json_response([deploy_json(f.record, now, can_rollback=f.can_rollback) for f in found])


@bp.route("/deploys/<deploy>", methods=["GET"])
@bp.output(200, DeployData)
@bp.errors({404: "Deploy not found."})
@requires("app.read.deploy")
def deploy_info(deploy: str) -> Response:
    bundle = deps()
    detail = deploy_list.deploy_info(bundle, require_identity(), deploy)
    return json_response(deploy_json(detail.record, bundle.clock(), log=detail.log))
