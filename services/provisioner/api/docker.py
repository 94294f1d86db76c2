"""tsuru's docker-only routes (provisioning.md §3.12): unit moves, log configs and the
deprecated big-sibling routes."""

from __future__ import annotations

from flask import Response
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.schemas import GoSchema, StringMap
from services.provisioner.domain import errors
from services.provisioner.domain.infra import LogConfig
from services.provisioner.operations import docker
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    JSON_STREAM,
    Blueprint,
    authenticated,
    input_fields,
    input_value,
    json_response,
    no_event,
    parse_input,
    require_identity,
    requires,
    stream,
)

bp = Blueprint("docker", __name__)


class MoveOne(Schema):
    to = fields.String(metadata={"description": "destination host"})


class MoveAll(Schema):
    from_ = fields.String(data_key="from")
    to = fields.String()


class LogInput(GoSchema):
    pool = fields.String(load_default="")
    restart = fields.String(load_default="")
    Driver = fields.String(load_default="")
    LogOpts = StringMap(load_default=dict)


@bp.route("/docker/container/<id>/move", methods=["POST"])
@bp.input(MoveOne)
@bp.output(200, JSON_STREAM, description="Move output")
@bp.errors(400, {404: "Unit or node not found"})
@requires("node.update.move.container")
def move_container(id: str) -> Response:  # noqa: A002 - tsuru's path variable
    body = docker.move_container(deps(), require_identity(), id, input_value("to"),
                                 input_fields())  # fmt: skip
    return stream(body, keepalive=15)


@bp.route("/docker/containers/move", methods=["POST"])
@bp.input(MoveAll)
@bp.output(200, JSON_STREAM, description="Move output")
@bp.errors(400, {404: "Node not found"})
@requires("node.update.move.containers")
def move_containers() -> Response:
    body = docker.move_containers(deps(), require_identity(), input_value("from"),
                                  input_value("to"), input_fields())  # fmt: skip
    return stream(body, keepalive=15)


@bp.route("/docker/logs", methods=["GET"])
@bp.output(200, out.LOG_CONFIGS)
@requires("pool.update.logs")
def log_configs() -> Response:
    return json_response(docker.log_configs(deps(), require_identity()))


@bp.route("/docker/logs", methods=["POST"])
@bp.input(LogInput, description="`LogOpts.<key>` form fields; `restart=true` restarts apps")
@bp.output(200, JSON_STREAM, description="Log config updated (and the restarts)")
@bp.errors(400)
@requires("pool.update.logs")
def set_log_config() -> Response:
    data = parse_input(LogInput())
    try:
        restart = parse_bool(data["restart"]) if data["restart"] else False
    except NumError as exc:
        raise errors.InvalidRestart(str(exc)) from exc
    config = LogConfig(data["Driver"], dict(data["LogOpts"]))
    body = docker.set_log_config(deps(), require_identity(), data["pool"], config, restart,
                                 input_fields())  # fmt: skip
    return stream(body)


DEPRECATED = {
    ("GET", "/docker/bs"): "GET /docker/nodecontainer/{name} (node-container-info command)",
    ("POST", "/docker/bs/env"): (
        "POST /docker/nodecontainer/{name} (node-container-update command)"
    ),
    ("POST", "/docker/bs/upgrade"): (
        "POST /docker/nodecontainer/{name}/upgrade (node-container-upgrade command)"
    ),
}


def _gone(method: str, path: str) -> Response:
    raise errors.Deprecated(f"this route is deprecated, please use {DEPRECATED[(method, path)]}")


@bp.route("/docker/bs", methods=["GET"])
@bp.errors({410: "Deprecated: use the node container routes"})
@authenticated("a deprecated route: it only says where the route moved")
def bs_config() -> Response:
    return _gone("GET", "/docker/bs")


@bp.route("/docker/bs/env", methods=["POST"])
@bp.errors({410: "Deprecated: use the node container routes"})
@no_event("a deprecated route that changes nothing")
@authenticated("a deprecated route: it only says where the route moved")
def bs_env() -> Response:
    return _gone("POST", "/docker/bs/env")


@bp.route("/docker/bs/upgrade", methods=["POST"])
@bp.errors({410: "Deprecated: use the node container routes"})
@no_event("a deprecated route that changes nothing")
@authenticated("a deprecated route: it only says where the route moved")
def bs_upgrade() -> Response:
    return _gone("POST", "/docker/bs/upgrade")
