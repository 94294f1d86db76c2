"""Clusters and provisioners (provisioning.md §3.6)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Response, request
from marshmallow import ValidationError, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters_infra import cluster_json
from services.provisioner.api.schemas import GoSchema, StringMap
from services.provisioner.domain import errors
from services.provisioner.domain.infra import Cluster
from services.provisioner.operations import clusters
from shared.http import (
    JSON,
    JSON_STREAM,
    Blueprint,
    empty,
    input_fields,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
    stream,
)
from shared.http.stream import MIMETYPE as STREAM
from shared.permissions import ensure

bp = Blueprint("clusters", __name__)

# Credentials stay out of the event's custom data.
SECRETS = ("clientkey", "custom_data.token", "custom_data.password", "kubeConfig.user.token",
           "kubeConfig.user.password", "kubeConfig.user.client-key-data")  # fmt: skip


class Base64(fields.Field):
    """Go marshals []byte as base64 text."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bytes:
        if value in (None, ""):
            return b""
        try:
            return base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("illegal base64 data") from exc


class ClusterInput(GoSchema):
    name = fields.String(load_default="")
    addresses = fields.List(fields.String(), load_default=list)
    provisioner = fields.String(load_default="")
    cacert = Base64(load_default=b"", metadata={"type": "string", "format": "byte"})
    clientcert = Base64(load_default=b"", metadata={"type": "string", "format": "byte"})
    clientkey = Base64(load_default=b"", metadata={"type": "string", "format": "byte"})
    pools = fields.List(fields.String(), load_default=list)
    custom_data = StringMap(load_default=dict)
    default = fields.Boolean(load_default=False)
    local = fields.Boolean(load_default=False)
    kubeConfig = fields.Dict(load_default=None, allow_none=True)
    httpProxy = fields.String(load_default="")


def _cluster(name: str | None = None) -> Cluster:
    ctype = request.headers.get("Content-Type")
    if ctype is not None and ctype != "application/json":
        raise errors.InvalidContentType(ctype)
    data = parse_input(ClusterInput())
    return Cluster(
        name=name if name is not None else data["name"],
        provisioner=data["provisioner"],
        addresses=list(data["addresses"]),
        cacert=data["cacert"],
        clientcert=data["clientcert"],
        clientkey=data["clientkey"],
        pools=list(data["pools"]),
        custom_data=dict(data["custom_data"]),
        default=data["default"],
        local=data["local"],
        kube_config=data["kubeConfig"],
        http_proxy=data["httpProxy"],
    )


def _done() -> Response:
    # With Accept: application/x-json-stream tsuru answers the (here empty) init output.
    if STREAM in request.headers.get("Accept", ""):
        return stream(lambda out: None)
    return empty(200)


@bp.route("/provisioner/clusters", methods=["POST"])
@bp.input(ClusterInput, JSON, description="the Content-Type must be absent or application/json")
@bp.output(200, JSON_STREAM, description="Cluster created (an empty stream unless asked)")
@bp.errors({400: "Invalid data", 404: "Pool does not exist", 409: "Cluster already exists"})
@requires("cluster.create")
def create_cluster() -> Response:
    identity = require_identity()
    ensure(identity, "cluster.create")  # tsuru: 403 before the content type
    cluster = _cluster()
    clusters.create_cluster(deps(), identity, cluster, input_fields(sensitive=SECRETS))
    return _done()


@bp.route("/provisioner/clusters/<name>", methods=["POST"])
@bp.input(ClusterInput, JSON)
@bp.output(200, JSON_STREAM, description="Cluster updated (replaced by the body)")
@bp.errors({400: "Invalid data", 404: "Cluster not found"})
@requires("cluster.update")
def update_cluster(name: str) -> Response:
    identity = require_identity()
    ensure(identity, "cluster.update")
    cluster = _cluster(name)
    clusters.update_cluster(deps(), identity, name, cluster, input_fields(sensitive=SECRETS))
    return _done()


@bp.route("/provisioner/clusters", methods=["GET"])
@bp.output(200, list_of(out.ClusterInfo))
@bp.output(204, description="No cluster")
@requires("cluster.read", "cluster.admin")
def list_clusters() -> Response:
    found = clusters.list_clusters(deps(), require_identity())
    return json_response([cluster_json(c) for c in found]) if found else empty(204)


@bp.route("/provisioner/clusters/<name>", methods=["GET"])
@bp.output(200, out.ClusterInfo)
@bp.errors({404: "Cluster not found"})
@requires("cluster.read", "cluster.admin")
def cluster_info(name: str) -> Response:
    return json_response(cluster_json(clusters.cluster_info(deps(), require_identity(), name)))


@bp.route("/provisioner/clusters/<name>", methods=["DELETE"])
@bp.output(200, JSON_STREAM, description="Cluster removed (an empty stream unless asked)")
@bp.errors({404: "Cluster not found"})
@requires("cluster.delete")
def delete_cluster(name: str) -> Response:
    clusters.delete_cluster(deps(), require_identity(), name, input_fields())
    return _done()


@bp.route("/provisioner", methods=["GET"])
@bp.output(200, list_of(out.ProvisionerInfo))
@requires("cluster.read")
def list_provisioners() -> Response:
    return json_response(clusters.list_provisioners(deps(), require_identity()))
