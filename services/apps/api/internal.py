"""Routes other contexts call (docs/runtime.md)."""

from __future__ import annotations

from flask import Response

from services.apps.api import responses as out
from services.apps.api.apps import flag
from services.apps.api.deps import deps
from services.apps.api.presenters import mini_app_json
from services.apps.api.schemas import ServiceEnvsInput, ServiceEnvsQuery
from services.apps.operations import certificates, internal
from services.apps.operations.listing import Listed
from shared.errors import Invalid
from shared.http import (
    JSON,
    JSON_STREAM,
    QUERY,
    Blueprint,
    input_value,
    json_body,
    json_response,
    list_of,
    stream,
)
from shared.http import internal as internal_only

bp = Blueprint("apps_internal", __name__)

APP = {"type": "object", "description": "name, teams, team_owner, pool, platform, addresses, "
       "internal_addresses, uuid, units [{id, ip}]"}  # fmt: skip
CERTS = {"type": "object", "description": "certificates: [{app, cname, certificate, key}]"}


@bp.route("/internal/apps/<app>", methods=["GET"])
@bp.output(200, APP)
@bp.errors({404: "App not found"})
@internal_only
def app_lookup(app: str) -> Response:
    found = internal.lookup(deps(), app)
    a = found.app
    return json_response({
        "name": a.name, "teams": list(a.teams), "team_owner": a.team_owner, "pool": a.pool,
        "platform": a.platform, "addresses": [found.address] if a.routers else [],
        "internal_addresses": [], "uuid": found.uuid,
        "units": [{"id": str(u.get("ID", "")), "ip": str(u.get("IP", ""))} for u in found.units],
    })  # fmt: skip


@bp.route("/internal/apps/<app>/service-envs", methods=["POST"])
@bp.input(ServiceEnvsInput, JSON)
@bp.output(200, JSON_STREAM)
@bp.errors(400, {404: "App not found"})
@internal_only
def set_service_envs(app: str) -> Response:
    body = json_body() or {}
    service, instance = body.get("service"), body.get("instance")
    envs = body.get("envs") or {}
    if not isinstance(service, str) or not isinstance(instance, str) or not isinstance(envs, dict):
        raise Invalid("service, instance and envs are required")
    restart = body.get("restart") is True
    bundle = deps()
    internal.lookup(bundle, app)  # 404 before any line
    return stream(
        lambda w: internal.set_service_envs(
            bundle,
            app,
            service,
            instance,
            {str(k): str(v) for k, v in envs.items()},
            restart,
            w.write,
        )  # fmt: skip
    )


@bp.route("/internal/apps/<app>/service-envs", methods=["DELETE"])
@bp.input(ServiceEnvsQuery, QUERY)
@bp.output(200, JSON_STREAM)
@bp.errors({404: "App not found"})
@internal_only
def unset_service_envs(app: str) -> Response:
    service, instance = input_value("service"), input_value("instance")
    restart = flag("restart")
    bundle = deps()
    internal.lookup(bundle, app)
    return stream(
        lambda w: internal.unset_service_envs(bundle, app, service, instance, restart, w.write)
    )


@bp.route("/internal/apps/<app>/restart", methods=["POST"])
@bp.output(200, JSON_STREAM)
@bp.errors({404: "App not found"})
@internal_only
def restart(app: str) -> Response:
    bundle = deps()
    internal.lookup(bundle, app)  # 404 before any line
    return stream(lambda w: internal.restart_for_peer(bundle, app, w.write))


@bp.route("/internal/teams/<team>/usage", methods=["GET"])
@bp.output(200, out.NAMES)
@internal_only
def team_usage(team: str) -> Response:
    return json_response({"apps": internal.team_apps(deps(), team)})


@bp.route("/internal/teams/<team>/apps", methods=["GET"])
@bp.output(200, list_of(out.MiniApp))
@internal_only
def team_owned_apps(team: str) -> Response:
    domain = deps().config.address_domain
    found = internal.owned_apps(deps(), team)
    return json_response([mini_app_json(Listed(a), domain, extended=True) for a in found])


@bp.route("/internal/pools/<pool>/usage", methods=["GET"])
@bp.output(200, out.NAMES)
@internal_only
def pool_usage(pool: str) -> Response:
    return json_response({"apps": internal.pool_apps(deps(), pool)})


@bp.route("/internal/platforms/<platform>/usage", methods=["GET"])
@bp.output(200, out.NAMES)
@internal_only
def platform_usage(platform: str) -> Response:
    return json_response({"apps": internal.platform_apps(deps(), platform)})


@bp.route("/internal/certificates", methods=["GET"])
@bp.output(200, CERTS)
@internal_only
def all_certificates() -> Response:
    return json_response({"certificates": [
        {"app": a, "cname": c.cname, "certificate": c.certificate, "key": c.key}
        for a, c in certificates.all_certificates(deps())
    ]})  # fmt: skip
