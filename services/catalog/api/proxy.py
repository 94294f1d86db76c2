"""The service proxy and the instance proxy (catalog.md §e): any of GET, POST, PUT,
PATCH, DELETE passed on to the service API; the answer streams back unchanged."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from services.catalog.api.common import event_fields
from services.catalog.api.deps import deps
from services.catalog.api.schemas import ProxyQuery
from services.catalog.operations import proxy as ops
from services.catalog.operations.deps import ProxyResponse
from shared.http import ANY, QUERY, Blueprint, require_identity, requires

bp = Blueprint("proxy", __name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_BUFFERED = ("application/x-www-form-urlencoded", "application/json")


def _incoming() -> ops.Incoming:
    query = [(k, v) for k, vs in request.args.lists() for v in vs if k != "callback"]
    body: Any = b""
    fields: Any = []
    if request.method != "GET":
        if request.mimetype in _BUFFERED:
            # Read (bounded by the route's body limit) for the event's custom data, and
            # passed on byte for byte.
            body = request.get_data(cache=True)
        else:
            body = request.stream
        fields = event_fields()
    forwarded = request.headers.get("X-Forwarded-For", "")
    client = forwarded.split(",")[-1].strip() if forwarded else (request.remote_addr or "")
    return ops.Incoming(
        method=request.method,
        callback=request.args.get("callback", ""),
        query=query,
        headers=[(k, v) for k, v in request.headers.items() if k.lower() != "x-forwarded-for"],
        body=body,
        client_ip=client,
        fields=fields,
    )


def _answer(found: ProxyResponse) -> Response:
    resp = Response(found.body, status=found.status, direct_passthrough=True)
    del resp.headers["Content-Type"]
    for name, value in found.headers:
        resp.headers.add(name, value)
    return resp


@bp.route("/services/proxy/service/<service>", methods=METHODS)
@bp.input(ProxyQuery, QUERY)
@bp.output(200, ANY, description="The service API's answer (any status), unchanged")
@bp.errors({400: "A broker's service has no proxy", 404: "Service not found"})
@bp.output(502, description="The service API could not be reached (empty body)")
@requires("service.update.proxy")
def service_proxy(service: str) -> Response:
    return _answer(ops.service_proxy(deps(), require_identity(), service, _incoming()))


@bp.route("/services/<service>/proxy/<instance>", methods=METHODS)
@bp.input(ProxyQuery, QUERY)
@bp.output(200, ANY, description="The service API's answer (any status), unchanged")
@bp.errors({400: "A reserved path or a broker's service", 404: "Instance not found"})
@bp.output(502, description="The service API could not be reached (empty body)")
@requires("service-instance.update.proxy")
def instance_proxy(service: str, instance: str) -> Response:
    found = ops.instance_proxy(deps(), require_identity(), service, instance, _incoming())
    return _answer(found)
