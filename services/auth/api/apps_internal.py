"""Routes the apps context calls (docs/runtime.md): app tokens and app quota."""

from __future__ import annotations

from flask import Response

from services.auth.api.deps import deps
from services.auth.api.schemas import AppQuotaInput, AppTokenInput
from services.auth.domain import errors
from services.auth.operations import apps
from shared.errors import Conflict, Invalid
from shared.http import JSON, Blueprint, internal, json_body, json_response

bp = Blueprint("apps_internal", __name__)

TOKEN = {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}
DONE = {"type": "object"}


def _field(name: str) -> str:
    value = (json_body() or {}).get(name, "")
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string")
    return value


@bp.route("/internal/app-tokens", methods=["POST"])
@bp.input(AppTokenInput, JSON)
@bp.output(200, TOKEN, description="The app's token (the same on every call)")
@bp.errors({400: "No app named"})
@internal
def issue() -> Response:
    app = _field("app")
    if not app:
        raise Invalid("app is required")
    return json_response({"token": apps.issue_app_token(deps(), app)})


@bp.route("/internal/app-tokens/<app>", methods=["DELETE"])
@bp.output(200, DONE, description="The app's token no longer works")
@internal
def revoke(app: str) -> Response:
    apps.revoke_app_token(deps(), app)
    return json_response({})


@bp.route("/internal/quota/apps/reserve", methods=["POST"])
@bp.input(AppQuotaInput, JSON)
@bp.output(200, DONE, description="One app more counted for the user and the team")
@bp.errors({400: "Malformed body", 409: "Quota exceeded"})
@internal
def reserve() -> Response:
    try:
        apps.reserve_app(deps(), _field("user"), _field("team"))
    except errors.QuotaExceeded as exc:
        # A 403 between services reads as "our identity was refused" (shared.client):
        # the refusal travels as 409 and the apps context answers its client 403.
        raise Conflict(exc.message) from None
    return json_response({})


@bp.route("/internal/quota/apps/release", methods=["POST"])
@bp.input(AppQuotaInput, JSON)
@bp.output(200, DONE, description="One app less counted (never below zero)")
@bp.errors({400: "Malformed body"})
@internal
def release() -> Response:
    apps.release_app(deps(), _field("user"), _field("team"))
    return json_response({})
