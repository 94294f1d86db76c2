"""The docker node autoscaler (provisioning.md §3.10) at ``/node/autoscale...`` (1.3),
``/docker/autoscale...`` (1.0) and the seed's ``/autoscale...``."""

from __future__ import annotations

from flask import Response, request
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters_infra import autoscale_event_json, rule_json
from services.provisioner.api.schemas import GoSchema
from services.provisioner.domain.infra import AutoscaleRule
from services.provisioner.operations import nodeautoscale as scaler
from shared.golang.strconv import NumError, atoi
from shared.http import (
    JSON_STREAM,
    QUERY,
    TEXT,
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
from shared.http.fields import GoBool
from shared.http.responses import dumps

bp = Blueprint("node_autoscale", __name__)

PREFIXES = ("/node/autoscale", "/docker/autoscale", "/autoscale")


class RuleInput(GoSchema):
    MetadataFilter = fields.String(load_default="")
    MaxContainerCount = fields.Integer(load_default=0)
    ScaleDownRatio = fields.Float(load_default=0.0)
    MaxMemoryRatio = fields.Float(load_default=0.0)
    Enabled = GoBool(load_default=False)
    PreventRebalance = GoBool(load_default=False)


class Page(Schema):
    skip = fields.Integer()
    limit = fields.Integer()


def _routes(suffix: str, method: str, prefixes: tuple[str, ...] = PREFIXES):  # type: ignore[no-untyped-def]
    def decorate(view):  # type: ignore[no-untyped-def]
        for prefix in prefixes:
            tag = prefix.strip("/").replace("/", "_")
            view = bp.route(prefix + suffix, methods=[method],
                            endpoint=f"{tag}{suffix.replace('/', '_')}_{method}")(view)  # fmt: skip
        return view

    return decorate


@_routes("/config", "GET")
@bp.output(200, out.AutoscaleConfig)
@requires("node.autoscale.read")
def get_config() -> Response:
    return json_response(scaler.get_config(require_identity()))


@_routes("/rules", "GET")
@bp.output(200, TEXT, description="The rules as JSON (tsuru sets no Content-Type: text/plain)")
@requires("node.autoscale.read")
def list_rules() -> Response:
    rules = [rule_json(v) for v in scaler.list_rules(deps(), require_identity())]
    return Response(dumps(rules) + "\n", content_type="text/plain; charset=utf-8")


@_routes("/rules", "POST")
@bp.input(RuleInput)
@bp.output(200, description="Rule set")
@bp.errors(400)
@requires("node.autoscale.update")
def set_rule() -> Response:
    data = parse_input(RuleInput())
    rule = AutoscaleRule(data["MetadataFilter"], data["Enabled"], data["MaxContainerCount"],
                         data["ScaleDownRatio"], data["MaxMemoryRatio"],
                         data["PreventRebalance"])  # fmt: skip
    scaler.set_rule(deps(), require_identity(), rule, input_fields())
    return empty(200)


def _delete(pool: str) -> Response:
    scaler.delete_rule(deps(), require_identity(), pool, input_fields())
    return empty(200)


# The seed's /autoscale spelling has no DELETE of the default rule.
@_routes("/rules", "DELETE", PREFIXES[:2])
@bp.output(200, description="The default rule removed")
@bp.errors({404: "Rule not found"})
@requires("node.autoscale")
def delete_default_rule() -> Response:
    return _delete("")


@_routes("/rules/<id>", "DELETE")
@bp.output(200, description="Rule removed")
@bp.errors({404: "Rule not found"})
@requires("node.autoscale")
def delete_rule(id: str) -> Response:  # noqa: A002 - tsuru's path variable
    return _delete(id)


def _int(name: str, default: int) -> int:
    try:
        return max(0, atoi(request.args.get(name, "")))
    except NumError:
        return default


@_routes("", "GET")
@bp.input(Page, QUERY)
@bp.output(200, list_of(out.AutoscaleEventInfo))
@bp.output(204, description="No autoscale run did anything")
@requires("node.autoscale")
def history() -> Response:
    found = scaler.history(deps(), require_identity(), _int("skip", 0), _int("limit", 100) or 100)
    return json_response([autoscale_event_json(e) for e in found]) if found else empty(204)


@_routes("/run", "POST")
@bp.output(200, JSON_STREAM, description="The run's log")
@requires("node.autoscale.update.run")
def run() -> Response:
    # tsuru sends 200 at once: whatever fails is an error line.
    return stream(scaler.run(deps(), require_identity(), input_fields()), keepalive=15, eager=True)
