"""Composition root of the apps context: the one place its collaborators are made.

No issue has built this context's routes yet: every route the gateway forwards
here answers 501 with a plain-text reason (shared.http's catch-all), never a fake
success. The service still runs for real (health, identity check) so the gateway,
the launcher and the tests treat it like any other.

``connect(settings)`` wires the real adapters without any I/O;
``create_app(settings, deps)`` builds the Flask app around any bundle (tests pass
fakes). See docs/contracts.md "How a new context is written".
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.apps.operations.deps import Deps
from shared import mongo
from shared.bus import BestEffortPublisher, Bus
from shared.events import EventRecorder, MongoEventStorage
from shared.http import make_app
from shared.settings import Settings
from shared.wiring import Wired

BLUEPRINTS: tuple[()] = ()


def connect(settings: Settings) -> Wired[Deps]:
    client = mongo.connect(settings.mongo_url)
    bus = Bus(settings.amqp_url, settings.namespace)
    publisher = BestEffortPublisher(bus)
    events = MongoEventStorage(client[settings.db_name("events")])
    deps = Deps(
        recorder=EventRecorder(
            events,
            publish=publisher.publish,
            instance="apps",
            lock_expiry=settings.event_lock_expiry,
        ),
        publisher=publisher,
    )

    def shutdown() -> None:
        bus.close()
        client.close()

    return Wired(deps, events.ensure_indexes, shutdown)


def create_app(
    settings: Settings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app("apps", settings, blueprints=BLUEPRINTS, deps=deps, startup=startup)
