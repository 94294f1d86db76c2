"""/events/webhooks: list, create, info, update, delete (route version 1.6)."""

from __future__ import annotations

from flask import Response

from services.events.api import responses as out
from services.events.api.deps import deps
from services.events.api.presenters import webhook_json
from services.events.api.schemas import WebhookSchema, webhook_from_input
from services.events.operations import webhooks
from shared.http import (
    Blueprint,
    empty,
    input_fields,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("webhooks", __name__)

SENSITIVE = ("secret",)


@bp.route("/events/webhooks", methods=["GET"])
@bp.output(200, list_of(out.WebhookInfo))
@bp.output(204, description="No webhook visible to the caller")
@requires("webhook.read")
def list_webhooks() -> Response:
    found = webhooks.list_webhooks(deps(), require_identity())
    return json_response([webhook_json(h) for h in found]) if found else empty(204)


@bp.route("/events/webhooks", methods=["POST"])
@bp.input(WebhookSchema)
@bp.output(200, out.WebhookCreated, description="Webhook created (tsuru: empty body)")
@bp.errors({400: "Invalid webhook"}, {404: "Team not found"}, {409: "Webhook already exists"})
@requires("webhook.create")
def create_webhook() -> Response:
    identity = require_identity()
    hook = webhook_from_input(parse_input(WebhookSchema()))
    secret = webhooks.create_webhook(deps(), identity, hook, input_fields(SENSITIVE))
    # tsuru answers 200 with an empty body; Tsubame returns the signing secret
    # once (docs/compatibility.md). Clients ignore the body.
    return json_response({"secret": secret})


@bp.route("/events/webhooks/<name>", methods=["GET"])
@bp.output(200, out.WebhookInfo)
@bp.errors({404: "Webhook not found"})
@requires("webhook.read")
def webhook_info(name: str) -> Response:
    return json_response(webhook_json(webhooks.get_webhook(deps(), require_identity(), name)))


@bp.route("/events/webhooks/<name>", methods=["PUT"])
@bp.input(WebhookSchema)
@bp.output(200, description="Webhook updated")
@bp.errors({400: "Invalid webhook"}, {404: "Webhook or team not found"})
@requires("webhook.update")
def update_webhook(name: str) -> Response:
    identity = require_identity()
    hook = webhook_from_input(parse_input(WebhookSchema()), name=name)
    webhooks.update_webhook(deps(), identity, hook, input_fields(SENSITIVE))
    return empty(200)


@bp.route("/events/webhooks/<name>", methods=["DELETE"])
@bp.output(200, description="Webhook removed")
@bp.errors({404: "Webhook not found"})
@requires("webhook.delete")
def delete_webhook(name: str) -> Response:
    webhooks.delete_webhook(deps(), require_identity(), name, input_fields())
    return empty(200)
