"""Every route declares its permission; every mutating route records its event."""

from __future__ import annotations

import pytest
from bson import ObjectId
from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

from services.events.tests.integration.conftest import Service
from shared.events import BLOCKS, EVENTS
from shared.testing.routes import (
    route_declarations,
    service_document,
    undeclared_routes,
    undocumented_routes,
    unknown_permissions,
)

pytestmark = pytest.mark.integration

# Cancelling records no event in tsuru: it marks the running event itself.
NO_EVENT = {"POST /events/<uuid>/cancel"}


def test_every_route_declares_its_permission(service: Service) -> None:
    assert undeclared_routes(service.app) == []
    assert unknown_permissions(service.app) == []
    decl = route_declarations(service.app)
    assert {k for k, v in decl.items() if v == "public"} == {"GET /internal/health"}
    # every service's document, added by make_app
    assert {k for k, v in decl.items() if v == "internal"} == {"GET /internal/openapi.json"}


def test_every_route_declares_its_responses(service: Service) -> None:
    assert undocumented_routes(service.app) == []
    doc = service_document(service.app)
    assert [e.message for e in OPENAPI_30_VALIDATOR.iter_errors(doc)] == []
    assert set(doc["paths"]) == {
        "/events",
        "/events/kinds",
        "/events/{uuid}",
        "/events/{uuid}/cancel",
        "/events/blocks",
        "/events/blocks/{uuid}",
        "/events/webhooks",
        "/events/webhooks/{name}",
    }


def test_every_mutating_route_records_its_event(service: Service) -> None:
    hook = {"name": "h1", "team_owner": "t", "url": "http://127.0.0.1:1/"}
    service.request("POST", "/events/blocks", data={"Reason": "seed", "KindName": "no.such.kind"})
    block_id = str(service.db[BLOCKS].find_one({})["_id"])
    service.request("POST", "/events/webhooks", json=hook)
    calls = {
        "POST /events/blocks": ("POST", "/events/blocks", {"data": {"Reason": "r", "KindName": "no.such.kind"}}, "event-block.add"),
        "DELETE /events/blocks/<uuid>": ("DELETE", f"/events/blocks/{block_id}", {}, "event-block.remove"),
        "POST /events/webhooks": ("POST", "/events/webhooks", {"json": {**hook, "name": "h2"}}, "webhook.create"),
        "PUT /events/webhooks/<name>": ("PUT", "/events/webhooks/h1", {"json": hook}, "webhook.update"),
        "DELETE /events/webhooks/<name>": ("DELETE", "/events/webhooks/h1", {}, "webhook.delete"),
    }  # fmt: skip
    mutating = {
        k for k in route_declarations(service.app)
        if k.split(" ")[0] != "GET" and not k.startswith("GET,")
    }  # fmt: skip
    assert mutating - NO_EVENT == set(calls)
    for key, (method, path, kwargs, kind) in calls.items():
        before = service.db[EVENTS].count_documents({"kind.name": kind})
        resp = service.request(method, path, **kwargs)
        assert resp.status_code == 200, (key, resp.get_data(as_text=True))
        after = list(service.db[EVENTS].find({"kind.name": kind}).sort("starttime", -1))
        assert len(after) == before + 1, key
        assert after[0]["error"] == "" and after[0]["running"] is False
    assert service.request("GET", f"/events/{ObjectId()}").status_code == 404
