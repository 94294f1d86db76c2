"""How tests/architecture calls every route of the events service (see
shared/testing/routewalk.py)."""

from __future__ import annotations

from bson import ObjectId
from flask import Flask

from services.events.bootstrap import create_app
from services.events.domain.webhooks import Webhook
from services.events.settings import EventsSettings
from services.events.tests.fakes import fake_deps
from shared.events import Block
from shared.events.model import now
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample

SETTINGS = EventsSettings(Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789"))
BLOCK = ObjectId("60a25b009d1e8a0001c0ffef")
HOOK = {"name": "h2", "team_owner": "t", "url": "http://127.0.0.1:1/"}

SAMPLES = {
    "POST /events/blocks": Sample("/events/blocks", data={"Reason": "r", "KindName": "no.such"}),
    "DELETE /events/blocks/<uuid>": Sample(f"/events/blocks/{BLOCK}"),
    "POST /events/webhooks": Sample("/events/webhooks", json=HOOK),
    "GET /events/webhooks/<name>": Sample("/events/webhooks/h1"),
    "PUT /events/webhooks/<name>": Sample("/events/webhooks/h1", json={**HOOK, "name": "h1"}),
    "DELETE /events/webhooks/<name>": Sample("/events/webhooks/h1"),
}


def make_app() -> Flask:
    deps = fake_deps()
    deps.stores.blocks.add(Block(BLOCK, now(), "seeded", kind_name="no.such.kind"))
    deps.stores.webhooks.create(Webhook("h1", "http://127.0.0.1:1/", team_owner="t"))
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return RouteWalk(make_app, samples=SAMPLES)
