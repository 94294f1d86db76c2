"""Environment variables (apps.md §3): get, set, unset."""

from __future__ import annotations

import re
from typing import Any

from flask import Response

from services.apps.api import responses as out
from services.apps.api.apps import flag
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.api.schemas import EnvQuery, EnvSetInput, EnvUnsetQuery
from services.apps.domain.env import env_json
from services.apps.operations import env
from shared.http import (
    JSON_STREAM,
    QUERY,
    Blueprint,
    input_fields,
    input_values,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
    stream,
)

bp: Blueprint = app_blueprint("env", __name__)

_VALUE_FIELD = re.compile(r"^envs\.(\d+)\.value$", re.IGNORECASE)


@bp.route("/apps/<app>/env", methods=["GET"])
@bp.input(EnvQuery, QUERY)
@bp.output(200, list_of(out.EnvVar, nullable=True))
@bp.errors({404: "App not found"})
@requires("app.read.env")
def get_env(app: str) -> Response:
    found = env.get_env(deps(), require_identity(), app, input_values("env"))
    return json_response(None if found is None else [env_json(e) for e in found])


def _masked_fields(private: set[int]) -> list[dict[str, Any]]:
    """Event data with private values replaced as tsuru replaces them."""
    fields = input_fields()
    for f in fields:
        m = _VALUE_FIELD.match(f["name"])
        if m and int(m.group(1)) in private:
            f["value"] = "*****"
    return fields


@bp.route("/apps/<app>/env", methods=["POST"])
@bp.input(EnvSetInput, description="JSON (preferred) or form `Envs.0.Name`, `Envs.0.Value` ...")
@bp.output(200, JSON_STREAM)
@bp.errors(400, {404: "App not found"})
@requires("app.update.env.set")
def set_env(app: str) -> Response:
    data = parse_input(EnvSetInput())
    items = None
    if data["envs"] is not None:
        items = [env.EnvItem(i["name"], i["value"], i["alias"], i["private"]) for i in data["envs"]]
    change = env.EnvChange(
        envs=items,
        norestart=data["norestart"],
        private=data["private"],
        managed_by=data["managedBy"],
        prune_unused=data["pruneUnused"],
    )
    env.check_set(change)
    found, permit = env.permit_set(deps(), require_identity(), app)
    private = {i for i, item in enumerate(items or []) if item.private or change.private}
    fields = _masked_fields(private)
    bundle = deps()
    return stream(lambda w: env.set_env(bundle, permit, found, change, fields, w.write))


@bp.route("/apps/<app>/env", methods=["DELETE"])
@bp.input(EnvUnsetQuery, QUERY)
@bp.output(200, JSON_STREAM)
@bp.errors(400, {404: "App not found"})
@requires("app.update.env.unset")
def unset_env(app: str) -> Response:
    names = input_values("env")
    found, permit = env.permit_unset(deps(), require_identity(), app, names)
    fields = input_fields()
    norestart = flag("noRestart")
    bundle = deps()
    return stream(lambda w: env.run_unset(bundle, permit, found, names, norestart, fields, w.write))
