"""Services (catalog.md §1, §2.4, §2.7-§2.9)."""

from __future__ import annotations

from flask import Response

from services.catalog.api import responses as out
from services.catalog.api.common import event_fields, text
from services.catalog.api.deps import deps
from services.catalog.api.presenters import plans_json, service_entry_json, service_info_json
from services.catalog.api.schemas import (
    DocInput,
    InstancesQuery,
    PlansQuery,
    ServiceInput,
)
from services.catalog.operations import listing
from services.catalog.operations import services as ops
from shared.http import (
    QUERY,
    TEXT,
    Blueprint,
    authenticated,
    empty,
    input_value,
    json_response,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("services", __name__)


def _service_input(name: str = "") -> ops.ServiceInput:
    data = parse_input(ServiceInput())
    return ops.ServiceInput(
        name=name or data["id"],
        username=data["username"],
        password=data["password"],
        endpoints=data["endpoints"],
        endpoint=data["endpoint"],
        team=data["team"],
        multi_cluster=data["multi_cluster"],
        disable_bind_unit=data["disable_bind_unit"],
    )


@bp.route("/services", methods=["GET"])
@bp.output(200, out.SERVICE_LIST)
@bp.output(204, description="No service")
@authenticated("lists the services whose owner teams hold the caller's service.read")
def list_services() -> Response:
    found = [service_entry_json(e) for e in listing.services(deps(), require_identity())]
    return json_response(found) if found else empty(204)


@bp.route("/services", methods=["POST"])
@bp.input(ServiceInput, description="`endpoints.<name>=<url>` for several clusters")
@bp.output(201, TEXT, description="Service created (body `success`)")
@bp.errors(400, {409: "Service already exists."})
@requires("service.create")
def create_service() -> Response:
    ops.create_service(deps(), require_identity(), _service_input(), event_fields())
    return text("success", 201)


@bp.route("/services/instances", methods=["GET"])
@bp.input(InstancesQuery, QUERY)
@bp.output(200, out.SERVICE_LIST)
@bp.output(204, description="No service visible")
@authenticated("lists the instances readable with the caller's service-instance.read")
def list_instances() -> Response:
    found = listing.instances(deps(), require_identity(), input_value("app"))
    body = [service_entry_json(e) for e in found]
    return json_response(body) if body else empty(204)


@bp.route("/services/<name>", methods=["PUT"])
@bp.input(ServiceInput)
@bp.output(200, description="Service updated")
@bp.errors(400, {404: "Service not found"})
@requires("service.update")
def update_service(name: str) -> Response:
    ops.update_service(deps(), require_identity(), name, _service_input(name), event_fields())
    return empty()


@bp.route("/services/<name>", methods=["DELETE"])
@bp.output(200, description="Service removed")
@bp.errors({403: "Not an owner, or the service has instances", 404: "Service not found"})
@requires("service.delete")
def delete_service(name: str) -> Response:
    ops.delete_service(deps(), require_identity(), name, event_fields())
    return empty()


@bp.route("/services/<name>", methods=["GET"])
@bp.output(200, TEXT, description="JSON array of instances with info, or null (no type set)")
@bp.errors({404: "Service not found"})
@authenticated("shows the instances readable with the caller's service-instance.read")
def service_info(name: str) -> Response:
    found = listing.service_info(deps(), require_identity(), name)
    return text(json_response(service_info_json(found)).get_data(as_text=True))


@bp.route("/services/<name>/doc", methods=["GET"])
@bp.output(200, TEXT, description="The service's documentation")
@bp.errors({404: "Service not found"})
@requires("service.read.doc")
def get_doc(name: str) -> Response:
    return text(ops.get_doc(deps(), require_identity(), name))


@bp.route("/services/<name>/doc", methods=["PUT"])
@bp.input(DocInput)
@bp.output(200, description="Documentation updated")
@bp.errors(400, {404: "Service not found"})
@requires("service.update.doc")
def set_doc(name: str) -> Response:
    ops.set_doc(deps(), require_identity(), name, input_value("doc"), event_fields())
    return empty()


@bp.route("/services/<name>/plans", methods=["GET"])
@bp.input(PlansQuery, QUERY)
@bp.output(200, out.PLANS)
@bp.errors({400: "The service needs a pool", 404: "Service not found", 500: "Service API"})
@requires("service.read.plans")
def plans(name: str) -> Response:
    found = ops.plans(deps(), require_identity(), name, input_value("pool"))
    return json_response(plans_json(found))


@bp.route("/services/<service>/team/<team>", methods=["PUT"])
@bp.output(200, description="Access granted")
@bp.errors({400: "Team not found", 404: "Service not found", 409: "Team already has access"})
@requires("service.update.grant-access")
def grant_access(service: str, team: str) -> Response:
    ops.grant_access(deps(), require_identity(), service, team, event_fields())
    return empty()


@bp.route("/services/<service>/team/<team>", methods=["DELETE"])
@bp.output(200, description="Access revoked")
@bp.errors(
    {400: "Team not found", 403: "The only team", 404: "Service not found", 409: "No access"}
)
@requires("service.update.revoke-access")
def revoke_access(service: str, team: str) -> Response:
    ops.revoke_access(deps(), require_identity(), service, team, event_fields())
    return empty()
