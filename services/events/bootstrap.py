"""Composition root of the events context: the one place its collaborators are made.

``connect(settings)`` wires the real adapters (MongoDB, the bus, the auth service,
the webhook sender, the retry queues) without any I/O; the web process
(``wsgi.py``) and the worker (``worker.py``) share it. ``create_app(settings, deps)``
builds the Flask app around any bundle (tests pass fakes).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace

from flask import Flask

from services.events.adapters.retry import RetryScheduler
from services.events.adapters.teams import TeamDirectory
from services.events.adapters.webhook_sender import HttpSender
from services.events.api import blocks, events, webhooks
from services.events.operations.deps import Config, Deps
from services.events.settings import EventsSettings
from services.events.storage.mongo import INDEXES, mongo_stores
from services.events.storage.recent import RecentWebhooks
from shared import mongo
from shared.bus import Bus
from shared.client import InternalClient
from shared.events import BLOCKS_CACHE_SECONDS, EventRecorder, MongoEventStorage
from shared.http import make_app
from shared.wiring import Wired

BLUEPRINTS = (blocks.bp, webhooks.bp, events.bp)


def connect(settings: EventsSettings) -> Wired[Deps]:
    base = settings.base
    client = mongo.connect(base.mongo_url, socket_timeout=base.mongo_socket_timeout)
    db = client[settings.db_name]
    bus = Bus(base.amqp_url, base.namespace)
    retries = RetryScheduler(base.amqp_url, base.namespace, settings.retry_delays)
    storage = MongoEventStorage(db)
    stores = mongo_stores(db)
    deps = Deps(
        # The finished notices' webhook list is read once per WEBHOOKS_CACHE_SECONDS.
        stores=replace(stores, webhooks=RecentWebhooks(stores.webhooks)),
        recorder=EventRecorder(
            storage,
            publish=bus.notify,
            blocks_cache=BLOCKS_CACHE_SECONDS,
            instance=socket.gethostname(),
            lock_expiry=settings.lock_expiry,
        ),
        publisher=bus,
        teams=TeamDirectory(InternalClient.to("auth", base, caller="events")),
        sender=HttpSender(settings.webhook_timeout),
        retries=retries,
        config=Config(sweep_delay=settings.sweep_delay),
    )

    def startup() -> None:
        storage.ensure_indexes()
        mongo.ensure_indexes(db, INDEXES)

    def shutdown() -> None:
        retries.close()
        bus.close()
        client.close()

    return Wired(deps, startup, shutdown)


def create_app(
    settings: EventsSettings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app("events", settings.base, blueprints=BLUEPRINTS, deps=deps, startup=startup)
