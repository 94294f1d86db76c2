"""Service instances (catalog.md §2.1-§2.3, §2.5, §2.6, §2.11, §2.12)."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from services.catalog.api import responses as out
from services.catalog.api.common import event_fields, text
from services.catalog.api.deps import deps
from services.catalog.api.presenters import instance_info_json
from services.catalog.api.schemas import InstanceInput, InstanceRemoveQuery, InstanceUpdateInput
from services.catalog.domain.models import ServiceInstance
from services.catalog.operations import instances as ops
from services.catalog.operations.binds import app_view, unbind_app
from services.catalog.operations.deps import Deps
from shared.events import RunningEvent
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    JSON_STREAM,
    QUERY,
    TEXT,
    Blueprint,
    StreamWriter,
    empty,
    json_response,
    parse_input,
    require_identity,
    requires,
    stream,
)

bp = Blueprint("instances", __name__)


def query_bool(name: str) -> bool:
    """tsuru reads these from the query string and ignores a parse error (false)."""
    try:
        return parse_bool(request.args.get(name, ""))
    except NumError:
        return False


def _tags(data: dict[str, Any]) -> list[str] | None:
    if data["tags"] is None and data["tag"] is None:
        return None
    return list(data["tags"] or []) + list(data["tag"] or [])


def _first(*values: str | None) -> str:
    return next((v for v in values if v is not None), "")


@bp.route("/services/<service>/instances", methods=["POST"])
@bp.input(InstanceInput, description="`parameters.<k>=v`; repeated `tag` fields add tags")
@bp.output(201, description="Instance created")
@bp.errors(
    {
        400: "Invalid data",
        404: "Service not found",
        409: "instance name already exists.",
        500: "The service API failed",
    }
)
@requires("service-instance.create")
def create_instance(service: str) -> Response:
    data = parse_input(InstanceInput())
    ops.create_instance(
        deps(),
        require_identity(),
        service,
        ops.InstanceInput(
            name=data["name"],
            plan=_first(data["plan_name"], data["planname"], data["plan"]),
            team_owner=_first(data["team_owner"], data["teamowner"], data["owner"]),
            description=data["description"],
            tags=_tags(data),
            pool=data["pool"],
            parameters=data["parameters"] or {},
        ),
        event_fields(),
    )
    return empty(201)


@bp.route("/services/<service>/instances/<instance>", methods=["PUT"])
@bp.input(InstanceUpdateInput, description="every field replaces the stored one")
@bp.output(200, description="Instance updated")
@bp.errors(400, {404: "Service or instance not found", 500: "The service API failed"})
@requires("service-instance.update")
def update_instance(service: str, instance: str) -> Response:
    data = parse_input(InstanceUpdateInput())
    update = ops.UpdateInput(
        description=data["description"],
        plan=data["plan"],
        team_owner=data["teamowner"],
        tags=_tags(data),
        parameters=data["parameters"],
    )
    ops.update_instance(deps(), require_identity(), service, instance, update, event_fields())
    return empty()


def _unbind(d: Deps) -> Any:
    def unbind(evt: RunningEvent, inst: ServiceInstance, app: str) -> None:
        current = d.stores.instances.get(inst.service_name, inst.name) or inst
        unbind_app(d, evt, current, app_view(d, app), restart=True, force=False)

    return unbind


@bp.route("/services/<service>/instances/<instance>", methods=["DELETE"])
@bp.input(InstanceRemoveQuery, QUERY)
@bp.output(200, JSON_STREAM)
@bp.errors({400: "Still bound", 404: "Instance or app not found", 500: "The service API failed"})
@requires("service-instance.delete")
def remove_instance(service: str, instance: str) -> Response:
    d, identity, fields = deps(), require_identity(), event_fields()
    unbind_all, ignore = query_bool("unbindall"), query_bool("ignoreerrors")

    def run(writer: StreamWriter) -> None:
        ops.remove_instance(
            d, identity, service, instance, unbind_all=unbind_all, ignore_errors=ignore,
            fields=fields, unbind=_unbind(d), writer=writer.write,
        )  # fmt: skip

    return stream(run)


@bp.route("/services/<service>/instances/<instance>", methods=["GET"])
@bp.output(200, out.InstanceInfo)
@bp.errors({404: "Service or instance not found", 500: "The service API failed"})
@requires("service-instance.read")
def instance_info(service: str, instance: str) -> Response:
    found = ops.info(deps(), require_identity(), service, instance)
    return json_response(instance_info_json(found))


@bp.route("/services/<service>/instances/<instance>/status", methods=["GET"])
@bp.output(200, TEXT, description='`Service instance "<name>" is <status>`')
@bp.errors({404: "Instance not found", 500: "The status could not be read"})
@requires("service-instance.read.status")
def instance_status(service: str, instance: str) -> Response:
    status = ops.status(deps(), require_identity(), service, instance)
    return text(f'Service instance "{instance}" is {status}')


@bp.route("/services/<service>/instances/permission/<instance>/<team>", methods=["PUT"])
@bp.output(200, description="Access granted")
@bp.errors({404: "Instance or team not found"})
@requires("service-instance.update.grant")
def grant(service: str, instance: str, team: str) -> Response:
    ops.grant(deps(), require_identity(), service, instance, team, event_fields())
    return empty()


@bp.route("/services/<service>/instances/permission/<instance>/<team>", methods=["DELETE"])
@bp.output(200, description="Access revoked")
@bp.errors({400: "The owner's access cannot be revoked", 404: "Instance or team not found"})
@requires("service-instance.update.revoke")
def revoke(service: str, instance: str, team: str) -> Response:
    ops.revoke(deps(), require_identity(), service, instance, team, event_fields())
    return empty()
