"""Node healing config and history (provisioning.md §3.5), ``/healing...`` and
``/docker/healing...``."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields

from services.provisioner.api import responses_infra as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters_infra import healing_json
from services.provisioner.domain import errors
from services.provisioner.domain.infra import HEALING_FIELDS
from services.provisioner.operations import healing
from shared.golang.strconv import NumError, atoi, parse_bool
from shared.http import (
    QUERY,
    Blueprint,
    empty,
    form,
    input_fields,
    json_body,
    json_response,
    list_of,
    require_identity,
    requires,
)

bp = Blueprint("healing", __name__)


class HealingUpdate(Schema):
    pool = fields.String()
    Enabled = fields.Boolean()
    MaxTimeSinceSuccess = fields.Integer()
    MaxUnresponsiveTime = fields.Integer()


class HealingRemove(Schema):
    pool = fields.String()
    name = fields.List(fields.String(), metadata={"description": "fields to unset"})


class HealingFilter(Schema):
    filter = fields.String(metadata={"description": "node, container or empty"})


def _changes() -> dict[str, object]:
    """The fields given (form or JSON, any case); absent ones are kept as stored."""
    raw: dict[str, Any] = {k: v for k, v in (json_body() or {}).items()}
    for key, value in form().items():
        raw.setdefault(key, value)
    wanted = {f.lower(): f for f in HEALING_FIELDS}
    out: dict[str, object] = {}
    for key, value in raw.items():
        name = wanted.get(str(key).lower())
        if name is None or value is None:
            continue
        try:
            if name == "Enabled":
                out[name] = value if isinstance(value, bool) else parse_bool(str(value))
            else:
                out[name] = (
                    value
                    if isinstance(value, int) and not isinstance(value, bool)
                    else atoi(str(value))
                )
        except NumError as exc:
            raise errors.InvalidHealingValue(f"unable to decode form: {exc}") from exc
    return out


def _pool() -> str:
    body = json_body() or {}
    return str(body.get("pool") or form().get("pool", "") or "")


@bp.route("/healing/node", methods=["GET"], endpoint="healing_info")
@bp.route("/docker/healing/node", methods=["GET"], endpoint="docker_healing_info")
@bp.output(200, out.HEALING)
@requires("healing.read")
def healing_info() -> Response:
    return json_response(healing.healing_info(deps(), require_identity()))


@bp.route("/healing/node", methods=["POST"], endpoint="healing_update")
@bp.route("/docker/healing/node", methods=["POST"], endpoint="docker_healing_update")
@bp.input(HealingUpdate, description="only the fields given change; no pool: the base entry")
@bp.output(200, description="Healing config updated")
@bp.errors(400)
@requires("healing.update")
def healing_update() -> Response:
    healing.update_healing(deps(), require_identity(), _pool(), _changes(), input_fields())
    return empty(200)


@bp.route("/healing/node", methods=["DELETE"], endpoint="healing_remove")
@bp.route("/docker/healing/node", methods=["DELETE"], endpoint="docker_healing_remove")
@bp.input(HealingRemove, QUERY)
@bp.output(200, description="Healing config removed")
@bp.errors({404: "The pool has no healing config"})
@requires("healing.delete")
def healing_remove() -> Response:
    pool = request.args.get("pool", "")
    healing.remove_healing(deps(), require_identity(), pool, request.args.getlist("name"),
                           input_fields())  # fmt: skip
    return empty(200)


@bp.route("/healing", methods=["GET"], endpoint="healing_history")
@bp.route("/docker/healing", methods=["GET"], endpoint="docker_healing_history")
@bp.input(HealingFilter, QUERY)
@bp.output(200, list_of(out.HealingEventInfo))
@bp.output(204, description="No healing")
@bp.errors({400: "Invalid filter"})
@requires("healing.read")
def healing_history() -> Response:
    found = healing.healing_history(deps(), require_identity(), request.args.get("filter", ""))
    return json_response([healing_json(e) for e in found]) if found else empty(204)
