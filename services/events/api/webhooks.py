"""/events/webhooks: list, create, info, update, delete (route version 1.6)."""

from __future__ import annotations

from flask import Response

from services.events.api.deps import deps
from services.events.api.schemas import WebhookSchema, webhook_from_input
from services.events.operations import webhooks
from shared.http import (
    Blueprint,
    empty,
    input_fields,
    json_response,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("webhooks", __name__)

SENSITIVE = ("secret",)


@bp.route("/events/webhooks", methods=["GET"])
@requires("webhook.read")
def list_webhooks() -> Response:
    found = webhooks.list_webhooks(deps().webhooks, require_identity())
    return json_response(found) if found else empty(204)


@bp.route("/events/webhooks", methods=["POST"])
@requires("webhook.create")
def create_webhook() -> Response:
    identity = require_identity()
    hook = webhook_from_input(parse_input(WebhookSchema()))
    d = deps()
    secret = webhooks.create_webhook(
        d.webhooks, d.recorder, identity, hook, input_fields(SENSITIVE), d.only_team
    )
    # tsuru answers 200 with an empty body; Tsubame returns the signing secret
    # once (docs/compatibility.md). Clients ignore the body.
    return json_response({"secret": secret})


@bp.route("/events/webhooks/<name>", methods=["GET"])
@requires("webhook.read")
def webhook_info(name: str) -> Response:
    return json_response(webhooks.get_webhook(deps().webhooks, require_identity(), name))


@bp.route("/events/webhooks/<name>", methods=["PUT"])
@requires("webhook.update")
def update_webhook(name: str) -> Response:
    identity = require_identity()
    hook = webhook_from_input(parse_input(WebhookSchema()), name=name)
    d = deps()
    webhooks.update_webhook(d.webhooks, d.recorder, identity, hook, input_fields(SENSITIVE))
    return empty(200)


@bp.route("/events/webhooks/<name>", methods=["DELETE"])
@requires("webhook.delete")
def delete_webhook(name: str) -> Response:
    d = deps()
    webhooks.delete_webhook(d.webhooks, d.recorder, require_identity(), name, input_fields())
    return empty(200)
