"""Service brokers (catalog.md §4), registered by tsuru at API version 1.7."""

from __future__ import annotations

from typing import Any

from flask import Response

from services.catalog.api.common import event_fields, text
from services.catalog.api.deps import deps
from services.catalog.api.presenters import broker_json
from services.catalog.api.schemas import BrokerInput
from services.catalog.domain.models import Broker, BrokerAuth, BrokerConfig
from services.catalog.operations import brokers as ops
from shared.errors import Invalid
from shared.http import (
    TEXT,
    Blueprint,
    empty,
    json_response,
    parse_input,
    require_identity,
    requires,
)

bp = Blueprint("brokers", __name__)


def _broker() -> Broker:
    try:
        data = parse_input(BrokerInput())
    except Invalid as exc:
        raise Invalid(f"unable to parse broker: {exc.message}") from exc
    config: dict[str, Any] = data["Config"] or {}
    auth_in = config.get("AuthConfig")
    auth = None
    if auth_in is not None:
        basic, bearer = auth_in.get("BasicAuthConfig"), auth_in.get("BearerConfig")
        auth = BrokerAuth(
            basic_username=None if basic is None else basic["Username"],
            basic_password="" if basic is None else basic["Password"],
            bearer_token=None if bearer is None else bearer["Token"],
        )
    return Broker(
        name=data["Name"],
        url=data["URL"],
        config=BrokerConfig(
            auth=auth,
            insecure=bool(config.get("Insecure", False)),
            context=dict(config.get("Context") or {}),
            cache_expiration_seconds=int(config.get("CacheExpirationSeconds", 0)),
        ),
    )


@bp.route("/brokers", methods=["GET"])
@bp.output(200, TEXT, description='`{"brokers": [...]}` (JSON; tsuru sets no type)')
@bp.output(204, description="No broker")
@requires("service-broker.read")
def list_brokers() -> Response:
    found = ops.list_brokers(deps(), require_identity())
    if not found:
        return empty(204)
    body = json_response({"brokers": [broker_json(b) for b in found]}).get_data(as_text=True)
    return text(body)


@bp.route("/brokers", methods=["POST"])
@bp.input(BrokerInput)
@bp.output(201, description="Broker added")
@bp.errors(400, {409: "Broker already exists."})
@requires("service-broker.create")
def add_broker() -> Response:
    ops.add_broker(deps(), require_identity(), _broker(), event_fields())
    return empty(201)


@bp.route("/brokers/<broker>", methods=["PUT"])
@bp.input(BrokerInput, description="replaces the broker, its name included")
@bp.output(200, description="Broker updated")
@bp.errors(400, {404: "service broker not found", 409: "Broker already exists."})
@requires("service-broker.update")
def update_broker(broker: str) -> Response:
    ops.update_broker(deps(), require_identity(), broker, _broker(), event_fields())
    return empty()


@bp.route("/brokers/<broker>", methods=["DELETE"])
@bp.output(200, description="Broker removed")
@bp.errors({404: "service broker not found"})
@requires("service-broker.delete")
def delete_broker(broker: str) -> Response:
    ops.delete_broker(deps(), require_identity(), broker, event_fields())
    return empty()
