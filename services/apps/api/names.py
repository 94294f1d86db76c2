"""Cnames, certificates, metric envs and routes (apps.md §9.3)."""

from __future__ import annotations

from flask import Response

from services.apps.api import responses as out
from services.apps.api.apps import flag
from services.apps.api.deps import deps
from services.apps.api.guard import app_blueprint
from services.apps.api.schemas import CertificateInput, CnameInput, CnameQuery, DryInput
from services.apps.operations import certificates, cnames, routes
from shared.http import (
    QUERY,
    Blueprint,
    empty,
    input_fields,
    input_value,
    input_values,
    json_response,
    require_identity,
    requires,
)

bp: Blueprint = app_blueprint("names", __name__)


@bp.route("/apps/<app>/cname", methods=["POST"])
@bp.input(CnameInput)
@bp.output(200, description="Cnames added")
@bp.errors(400, {404: "App not found"}, {409: "A cname is taken by an app"})
@requires("app.update.cname.add")
def add_cname(app: str) -> Response:
    cnames.add(deps(), require_identity(), app, input_values("cname"), input_fields())
    return empty()


@bp.route("/apps/<app>/cname", methods=["DELETE"])
@bp.input(CnameInput, QUERY)
@bp.output(200, description="Cnames removed")
@bp.errors(400, {404: "App not found, or a cname it does not have"})
@requires("app.update.cname.remove")
def remove_cname(app: str) -> Response:
    cnames.remove(deps(), require_identity(), app, input_values("cname"), input_fields())
    return empty()


@bp.route("/apps/<app>/certificate", methods=["PUT"])
@bp.input(CertificateInput)
@bp.output(200, description="Certificate set")
@bp.errors(400, {404: "App not found"})
@requires("app.update.certificate.set")
def set_certificate(app: str) -> Response:
    certificates.set_certificate(
        deps(),
        require_identity(),
        app,
        input_value("cname"),
        input_value("certificate"),
        input_value("key"),
        input_fields(sensitive=("key",)),
    )
    return empty()


@bp.route("/apps/<app>/certificate", methods=["DELETE"])
@bp.input(CnameQuery, QUERY)
@bp.output(200, description="Certificate removed")
@bp.errors(400, {404: "App not found"})
@requires("app.update.certificate.unset")
def unset_certificate(app: str) -> Response:
    certificates.unset_certificate(
        deps(), require_identity(), app, input_value("cname"), input_fields()
    )
    return empty()


@bp.route("/apps/<app>/certificate", methods=["GET"])
@bp.output(200, out.CERTIFICATES)
@bp.errors(400, {404: "App not found"})
@requires("app.read.certificate")
def list_certificates(app: str) -> Response:
    return json_response(certificates.list_certificates(deps(), require_identity(), app))


@bp.route("/apps/<app>/metric/envs", methods=["GET"])
@bp.output(200, out.STRING_MAP)
@bp.errors({404: "App not found"})
@requires("app.read.metric")
def metric_envs(app: str) -> Response:
    return json_response(routes.metric_envs(deps(), require_identity(), app))


@bp.route("/apps/<app>/routes", methods=["POST"])
@bp.input(DryInput)
@bp.output(200, out.ROUTES_REBUILT)
@bp.errors({404: "App not found"})
@requires("app.admin.routes")
def rebuild_routes(app: str) -> Response:
    result = routes.rebuild(deps(), require_identity(), app, flag("dry"), input_fields())
    return json_response(result)
