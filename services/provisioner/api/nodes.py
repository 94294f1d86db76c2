"""Nodes (provisioning.md §3.4): ``/node...`` (1.2+), ``/docker/node...`` (1.0) and the
seed's ``/{provisioner}/node...`` spelling of the same routes."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters_infra import machine_json, node_spec, node_status
from services.provisioner.api.schemas import GoSchema, StringMap
from services.provisioner.operations import nodes
from shared.http import (
    JSON_STREAM,
    QUERY,
    TEXT,
    Blueprint,
    authenticated,
    empty,
    input_fields,
    json_response,
    parse_input,
    require_identity,
    requires,
    stream,
)
from shared.http.fields import GoBool

bp = Blueprint("nodes", __name__)

# Node addresses are URLs: "//" in the path is part of the address, never merged.
RAW = {"merge_slashes": False}


class NodeAdd(GoSchema):
    Register = GoBool(load_default=False)
    Metadata = StringMap(load_default=dict)
    WaitTO = fields.Integer(load_default=0, metadata={"description": "nanoseconds"})
    CaCert = fields.String(load_default="")
    ClientCert = fields.String(load_default="")
    ClientKey = fields.String(load_default="")


class NodeUpdate(GoSchema):
    Address = fields.String(load_default="")
    Metadata = StringMap(load_default=dict)
    Enable = GoBool(load_default=False)
    Disable = GoBool(load_default=False)


class NodeRemove(Schema):
    no_rebalance = fields.String(data_key="no-rebalance")
    remove_iaas = fields.String(data_key="remove-iaas")


class Rebalance(GoSchema):
    Dry = GoBool(load_default=False)
    MetadataFilter = StringMap(load_default=dict)
    AppFilter = fields.List(fields.String(), load_default=list)


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("true", "1", "t")


def _list() -> Response:
    filters = {k[len("metadata."):]: v for k, v in request.args.items()
               if k.startswith("metadata.")}  # fmt: skip
    found, machines = nodes.list_nodes(deps(), require_identity(), filters)
    if not found and not machines:
        return empty(204)
    return json_response({"nodes": [node_spec(n) for n in found] or None,
                          "machines": [machine_json(m) for m in machines] or None})  # fmt: skip


def _add() -> Response:
    data = parse_input(NodeAdd())
    opts = nodes.AddNode(data["Register"], dict(data["Metadata"]), data["WaitTO"] / 1e9)
    # Keys, certificates and metadata secrets stay out of the event.
    fields_ = input_fields(sensitive=("ClientKey", "clientkey", "CaCert", "ClientCert"))
    body = nodes.add_node(deps(), require_identity(), opts, fields_)
    # tsuru sends 201 before it does anything; later failures are error lines.
    return stream(body, keepalive=15, status=201, eager=True)


def _update() -> Response:
    data = parse_input(NodeUpdate())
    change = nodes.NodeChange(data["Address"], dict(data["Metadata"]), data["Enable"],
                              data["Disable"])  # fmt: skip
    nodes.update_node(deps(), require_identity(), change, input_fields())
    return empty(200)


def _remove(address: str) -> Response:
    body = nodes.remove_node(
        deps(), require_identity(), address, not _flag("no-rebalance"), input_fields()
    )
    resp = stream(body)
    # tsuru writes the provisioner's plain-text progress here, not a JSON stream.
    resp.mimetype = "text/plain"
    return resp


def _containers(address: str) -> Response:
    found = nodes.units_by_node(deps(), require_identity(), address)
    return json_response(found) if found else empty(204)


def _app_containers(appname: str) -> Response:
    found = nodes.units_by_app(deps(), require_identity(), appname)
    return json_response(found) if found else empty(204)


def _declare_list(f: Any) -> Any:
    f = bp.output(200, out.NodeList)(f)
    f = bp.output(204, description="No node or machine visible to the caller")(f)
    return authenticated("lists the nodes of pools where the caller has node.read")(f)


@bp.route("/node", methods=["GET"], endpoint="node_list")
@bp.route("/docker/node", methods=["GET"], endpoint="docker_node_list")
@_declare_list
def list_nodes() -> Response:
    return _list()


@bp.route("/<provisioner>/node", methods=["GET"], endpoint="prov_node_list")
@_declare_list
def list_nodes_of(provisioner: str) -> Response:
    return _list()


@bp.route("/node", methods=["POST"], endpoint="node_add")
@bp.route("/docker/node", methods=["POST"], endpoint="docker_node_add")
@bp.input(NodeAdd, description="`Metadata.pool` is required; `Register=true` with "
          "`Metadata.address` registers an engine")  # fmt: skip
@bp.output(201, JSON_STREAM, description="Node added")
@bp.errors(400, {404: "Pool not found"})
@requires("node.create")
def add_node() -> Response:
    return _add()


def _declare_update(f: Any) -> Any:
    f = bp.input(NodeUpdate)(f)
    f = bp.output(200, description="Node updated")(f)
    f = bp.errors(400, {404: "Node not found"})(f)
    return requires("node.update")(f)


@bp.route("/node", methods=["PUT"], endpoint="node_update")
@bp.route("/docker/node", methods=["PUT"], endpoint="docker_node_update")
@_declare_update
def update_node() -> Response:
    return _update()


@bp.route("/<provisioner>/node", methods=["PUT"], endpoint="prov_node_update")
@_declare_update
def update_node_of(provisioner: str) -> Response:
    return _update()


def _declare_remove(f: Any) -> Any:
    f = bp.input(NodeRemove, QUERY)(f)
    f = bp.output(200, TEXT, description="Node removed (plain-text progress)")(f)
    f = bp.errors(400, {404: "Node not found"})(f)
    return requires("node.delete")(f)


@bp.route("/node/<path:address>", methods=["DELETE"], endpoint="node_remove", **RAW)
@bp.route("/docker/node/<path:address>", methods=["DELETE"], endpoint="docker_node_remove",
          **RAW)  # fmt: skip
@_declare_remove
def remove_node(address: str) -> Response:
    return _remove(address)


@bp.route("/<provisioner>/node/<path:address>", methods=["DELETE"], endpoint="prov_node_remove",
          **RAW)  # fmt: skip
@_declare_remove
def remove_node_of(provisioner: str, address: str) -> Response:
    return _remove(address)


def _declare_containers(f: Any) -> Any:
    f = bp.output(200, out.UNITS)(f)
    f = bp.output(204, description="No unit on the node")(f)
    f = bp.errors({404: "Node not found"})(f)
    return requires("node.read")(f)


@bp.route("/node/<path:address>/containers", methods=["GET"], endpoint="node_units", **RAW)
@bp.route("/docker/node/<path:address>/containers", methods=["GET"],
          endpoint="docker_node_units", **RAW)  # fmt: skip
@_declare_containers
def node_units(address: str) -> Response:
    return _containers(address)


@bp.route("/<provisioner>/node/<path:address>/containers", methods=["GET"],
          endpoint="prov_node_units", **RAW)  # fmt: skip
@_declare_containers
def node_units_of(provisioner: str, address: str) -> Response:
    return _containers(address)


@bp.route("/node/apps/<appname>/containers", methods=["GET"], endpoint="app_units")
@bp.route("/docker/node/apps/<appname>/containers", methods=["GET"], endpoint="docker_app_units")
@bp.output(200, out.UNITS)
@bp.output(204, description="The app has no unit")
@bp.errors({404: "App not found"})
@requires("app.read")
def app_units(appname: str) -> Response:
    return _app_containers(appname)


@bp.route("/node/<path:address>", methods=["GET"], endpoint="node_info", **RAW)
@bp.output(200, out.NodeInfo)
@bp.errors({404: "Node not found"})
@requires("node.read")
def node_info(address: str) -> Response:
    node, units = nodes.node_info(deps(), require_identity(), address)
    return json_response({"node": node_spec(node), "status": node_status(node), "units": units})


@bp.route("/node/rebalance", methods=["POST"], endpoint="rebalance")
@bp.route("/docker/containers/rebalance", methods=["POST"], endpoint="docker_rebalance")
@bp.input(Rebalance, description="`MetadataFilter.pool` names the pool; `AppFilter.<i>` apps")
@bp.output(200, JSON_STREAM, description="Rebalance output")
@bp.errors(400)
@requires("node.update.rebalance")
def rebalance() -> Response:
    data = parse_input(Rebalance())
    pool = dict(data["MetadataFilter"]).get("pool", "")
    body = nodes.rebalance(deps(), require_identity(), pool, data["Dry"], list(data["AppFilter"]),
                           input_fields())  # fmt: skip
    return stream(body, keepalive=15)
