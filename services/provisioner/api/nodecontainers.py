"""Node containers (provisioning.md §3.11): ``/nodecontainers...`` (1.2) and
``/docker/nodecontainers...`` (1.0)."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.domain import errors
from services.provisioner.domain.nodecontainers import canonical
from services.provisioner.operations import nodecontainers as ops
from shared.http import (
    JSON_STREAM,
    QUERY,
    Blueprint,
    empty,
    input_fields,
    input_value,
    json_body,
    json_response,
    list_of,
    require_identity,
    requires,
    stream,
)
from shared.http.inputs import form_tree

bp = Blueprint("node_containers", __name__)

PREFIXES = ("/nodecontainers", "/docker/nodecontainers")


class NodeContainerInput(Schema):
    pool = fields.String()
    Name = fields.String()
    PinnedImage = fields.String()
    Disabled = fields.Boolean()
    Config = fields.Dict(metadata={"description": "Docker Config (Config.Image, Config.Env.0 ...)"})
    HostConfig = fields.Dict(metadata={"description": "Docker HostConfig"})


class RemoveQuery(Schema):
    pool = fields.String()
    kill = fields.String()


def _routes(suffix: str, method: str):  # type: ignore[no-untyped-def]
    def decorate(view):  # type: ignore[no-untyped-def]
        for prefix in PREFIXES:
            tag = prefix.strip("/").replace("/", "_")
            view = bp.route(prefix + suffix, methods=[method],
                            endpoint=f"{tag}{suffix.replace('/', '_')}_{method}")(view)  # fmt: skip
        return view

    return decorate


def _config() -> tuple[str, dict[str, Any]]:
    """(pool, config) from a form (Go field names, dotted) or a JSON object."""
    body = json_body()
    raw = dict(body) if body is not None else form_tree()
    pool = str(raw.pop("pool", "") or "")
    if not isinstance(raw, dict):
        raise errors.NodeContainerInvalid("unable to decode the node container config")
    return pool, canonical(raw)


@_routes("", "GET")
@bp.output(200, list_of(out.NodeContainerListed))
@requires("nodecontainer.read")
def list_node_containers() -> Response:
    return json_response(ops.list_node_containers(deps(), require_identity()))


@_routes("", "POST")
@bp.input(NodeContainerInput)
@bp.output(200, description="Node container config stored")
@bp.errors(400)
@requires("nodecontainer.create")
def create() -> Response:
    pool, config = _config()
    ops.create(deps(), require_identity(), pool, config, input_fields())
    return empty(200)


@_routes("/<name>", "GET")
@bp.output(200, out.CONFIG_POOLS)
@bp.errors({404: "Node container not found"})
@requires("nodecontainer.read")
def info(name: str) -> Response:
    return json_response(ops.node_container_info(deps(), require_identity(), name))


@_routes("/<name>", "POST")
@bp.input(NodeContainerInput)
@bp.output(200, description="Node container config updated")
@bp.errors(400, {404: "Node container not found"})
@requires("nodecontainer.update")
def update(name: str) -> Response:
    pool, config = _config()
    ops.update(deps(), require_identity(), name, pool, config, input_fields())
    return empty(200)


@_routes("/<name>", "DELETE")
@bp.input(RemoveQuery, QUERY)
@bp.output(200, JSON_STREAM, description="Removed (a stream when `kill` is true)")
@bp.errors({404: "Node container not found"})
@requires("nodecontainer.delete")
def remove(name: str) -> Response:
    kill = request.args.get("kill", "").lower() in ("true", "1", "t")
    body = ops.remove(deps(), require_identity(), name, request.args.get("pool", ""), kill,
                      input_fields())  # fmt: skip
    return empty(200) if body is None else stream(body)


@_routes("/<name>/upgrade", "POST")
@bp.output(200, JSON_STREAM, description="Upgrade output")
@bp.errors({404: "Node container not found"})
@requires("nodecontainer.update.upgrade")
def upgrade(name: str) -> Response:
    body = ops.upgrade(deps(), require_identity(), name, input_value("pool"), input_fields())
    return stream(body, keepalive=15)
