"""IaaS machines and templates (provisioning.md §3.8) and install hosts (§3.9)."""

from __future__ import annotations

from flask import Response, request
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters_infra import (
    install_host_json,
    machine_json,
    template_json,
)
from services.provisioner.api.schemas import GoSchema
from services.provisioner.domain.infra import InstallHost, Template, TemplateEntry
from services.provisioner.operations import iaas
from shared.http import (
    FORM,
    QUERY,
    Blueprint,
    authenticated,
    empty,
    form,
    input_fields,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("iaas", __name__)

HOST_SECRETS = ("sshPrivateKey", "caPrivateKey")


class Entry(GoSchema):
    Name = fields.String(load_default="")
    Value = fields.String(load_default="")


class TemplateInput(GoSchema):
    Name = fields.String(load_default="")
    IaaSName = fields.String(load_default="")
    Data = fields.List(fields.Nested(Entry), load_default=list)


class ForceQuery(Schema):
    force = fields.String()


class HostInput(Schema):
    name = fields.String()
    driverName = fields.String()
    driver = fields.String(metadata={"description": "a JSON object, as text"})
    sshPrivateKey = fields.String()
    caCert = fields.String()
    caPrivateKey = fields.String()


def _entries(raw: list[dict[str, str]]) -> list[TemplateEntry]:
    return [TemplateEntry(e["Name"], e["Value"]) for e in raw]


@bp.route("/iaas/machines", methods=["GET"])
@bp.output(200, list_of(out.MachineInfo, nullable=True))
@authenticated("lists the machines of the IaaSes where the caller has machine.read")
def list_machines() -> Response:
    found = iaas.list_machines(deps(), require_identity())
    return json_response([machine_json(m) for m in found] or None)


@bp.route("/iaas/machines/<machine_id>", methods=["DELETE"])
@bp.input(ForceQuery, QUERY)
@bp.output(200, description="Machine destroyed")
@bp.errors(400, {404: "Machine not found"})
@requires("machine.delete")
def destroy_machine(machine_id: str) -> Response:
    force = request.args.get("force", "").lower() in ("true", "1", "t")
    iaas.destroy_machine(deps(), require_identity(), machine_id, force, input_fields())
    return empty(200)


@bp.route("/iaas/templates", methods=["GET"])
@bp.output(200, list_of(out.TemplateInfo, nullable=True))
@authenticated("lists the templates of the IaaSes where the caller has machine.template.read")
def list_templates() -> Response:
    found = iaas.list_templates(deps(), require_identity())
    return json_response([template_json(t) for t in found] or None)


@bp.route("/iaas/templates", methods=["POST"])
@bp.input(TemplateInput, description="`Data.<i>.Name` / `Data.<i>.Value` form fields")
@bp.output(201, description="Template created")
@bp.errors(400, {409: "Template name already used"})
@requires("machine.template.create")
def create_template() -> Response:
    data = parse_input(TemplateInput())
    template = Template(data["Name"], data["IaaSName"], _entries(data["Data"]))
    iaas.create_template(deps(), require_identity(), template, input_fields())
    return empty(201)


@bp.route("/iaas/templates/<template_name>", methods=["DELETE"])
@bp.output(200, description="Template removed")
@bp.errors({404: "Template not found"})
@requires("machine.template.delete")
def delete_template(template_name: str) -> Response:
    iaas.delete_template(deps(), require_identity(), template_name, input_fields())
    return empty(200)


@bp.route("/iaas/templates/<template_name>", methods=["PUT"])
@bp.input(TemplateInput, description="an entry with an empty Value removes the parameter")
@bp.output(200, description="Template updated")
@bp.errors(400, {404: "Template not found"})
@requires("machine.template.update")
def update_template(template_name: str) -> Response:
    data = parse_input(TemplateInput())
    iaas.update_template(deps(), require_identity(), template_name, data["IaaSName"],
                         _entries(data["Data"]), input_fields())  # fmt: skip
    return empty(200)


@bp.route("/install/hosts", methods=["POST"])
@bp.input(HostInput, FORM)
@bp.output(201, description="Host added")
@bp.errors(400, 409)
@requires("install.manage")
def add_install_host() -> Response:
    values = form()
    host = InstallHost(
        name=values.get("name", ""),
        driver_name=values.get("driverName", ""),
        ssh_private_key=values.get("sshPrivateKey", ""),
        ca_cert=values.get("caCert", ""),
        ca_private_key=values.get("caPrivateKey", ""),
    )
    fields_ = input_fields(sensitive=HOST_SECRETS)
    iaas.add_install_host(deps(), require_identity(), host, values.get("driver", ""), fields_)
    return empty(201)


@bp.route("/install/hosts/<name>", methods=["GET"])
@bp.output(200, out.InstallHostInfo)
@bp.errors({404: "Host not found"})
@requires("install.manage")
def install_host(name: str) -> Response:
    return json_response(install_host_json(iaas.install_host(deps(), require_identity(), name)))


@bp.route("/install/hosts", methods=["GET"])
@bp.output(200, list_of(out.InstallHostInfo, nullable=True))
@requires("install.manage")
def install_hosts() -> Response:
    found = iaas.install_hosts(deps(), require_identity())
    return json_response([install_host_json(h) for h in found] or None)
