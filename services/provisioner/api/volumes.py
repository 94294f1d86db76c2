"""Volumes, volume plans and binds (provisioning.md §3.7)."""

from __future__ import annotations

from flask import Response, request
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters_infra import volume_json
from services.provisioner.api.schemas import GoSchema, StringMap
from services.provisioner.operations import volumes
from shared.http import (
    JSON_STREAM,
    QUERY,
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

bp = Blueprint("volumes", __name__)


class PlanRef(GoSchema):
    name = fields.String(load_default="")


class VolumeInput(GoSchema):
    name = fields.String(load_default="")
    pool = fields.String(load_default="")
    teamOwner = fields.String(load_default="")
    plan = fields.Nested(PlanRef, load_default=dict)
    opts = StringMap(load_default=None, allow_none=True)


class BindInput(GoSchema):
    App = fields.String(load_default="")
    MountPoint = fields.String(load_default="")
    ReadOnly = GoBool(load_default=False)
    NoRestart = GoBool(load_default=False)


class UnbindQuery(Schema):
    app = fields.String()
    mountpoint = fields.String()
    norestart = fields.String()


def _input(name: str | None = None) -> volumes.VolumeInput:
    data = parse_input(VolumeInput())
    return volumes.VolumeInput(
        name if name is not None else data["name"],
        data["pool"],
        data["teamOwner"],
        str((data["plan"] or {}).get("name", "")),
        data["opts"],
    )


@bp.route("/volumes", methods=["GET"])
@bp.output(200, list_of(out.VolumeInfo))
@bp.output(204, description="No volume visible to the caller")
@requires("volume.read")
def list_volumes() -> Response:
    found = volumes.list_volumes(deps(), require_identity())
    return json_response([volume_json(v, b) for v, b in found]) if found else empty(204)


@bp.route("/volumes/<name>", methods=["GET"])
@bp.output(200, out.VolumeInfo)
@bp.errors({404: "Volume not found"})
@requires("volume.read")
def volume_info(name: str) -> Response:
    volume, binds = volumes.volume_info(deps(), require_identity(), name)
    return json_response(volume_json(volume, binds))


@bp.route("/volumes", methods=["POST"])
@bp.input(VolumeInput, description="`plan.name`, `opts.<key>` as form fields")
@bp.output(201, description="Volume created")
@bp.errors(400, {409: "Volume already exists"})
@requires("volume.create")
def create_volume() -> Response:
    volumes.create_volume(deps(), require_identity(), _input(), input_fields())
    return empty(201)


@bp.route("/volumes/<name>", methods=["POST"])
@bp.input(VolumeInput)
@bp.output(200, description="Volume updated")
@bp.errors(400, {404: "Volume not found"})
@requires("volume.update")
def update_volume(name: str) -> Response:
    volumes.update_volume(deps(), require_identity(), name, _input(name), input_fields())
    return empty(200)


@bp.route("/volumes/<name>", methods=["DELETE"])
@bp.output(200, description="Volume deleted")
@bp.errors({400: "The volume has binds", 404: "Volume not found"})
@requires("volume.delete")
def delete_volume(name: str) -> Response:
    volumes.delete_volume(deps(), require_identity(), name, input_fields())
    return empty(200)


@bp.route("/volumeplans", methods=["GET"])
@bp.output(200, out.VOLUME_PLANS)
@bp.output(204, description="No volume plan configured")
@requires("volume.create")
def volume_plans() -> Response:
    plans = volumes.volume_plans(deps(), require_identity())
    return json_response(plans) if plans else empty(204)


@bp.route("/volumes/<name>/bind", methods=["POST"])
@bp.input(BindInput)
@bp.output(200, JSON_STREAM, description="Volume bound (the restart output unless NoRestart)")
@bp.errors(400, {404: "Volume or app not found", 409: "Volume bind already exists"})
@requires("volume.update.bind", "app.update.bind-volume")
def bind(name: str) -> Response:
    data = parse_input(BindInput())
    body = volumes.bind_volume(deps(), require_identity(), name, data["App"], data["MountPoint"],
                               data["ReadOnly"], data["NoRestart"], input_fields())  # fmt: skip
    return empty(200) if body is None else stream(body)


@bp.route("/volumes/<name>/bind", methods=["DELETE"])
@bp.input(UnbindQuery, QUERY)
@bp.output(200, JSON_STREAM, description="Volume unbound (the restart output unless norestart)")
@bp.errors({404: "Volume, app or bind not found"})
@requires("volume.update.unbind", "app.update.unbind-volume")
def unbind(name: str) -> Response:
    args = {k.lower(): v for k, v in request.args.items()}
    no_restart = args.get("norestart", "").lower() in ("true", "1", "t")
    body = volumes.unbind_volume(deps(), require_identity(), name, args.get("app", ""),
                                 args.get("mountpoint", ""), no_restart, input_fields())  # fmt: skip
    return empty(200) if body is None else stream(body)
