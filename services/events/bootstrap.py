"""Composition root of the events context.

``create_app`` wires the stores, the event recorder (whose finished notices go to
the bus) and the auth team directory; it performs no I/O itself: the Mongo client
connects lazily and indexes are ensured on the first request of each process.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from flask import Flask
from pymongo.database import Database

from services.events.adapters.teams import TeamDirectory
from services.events.api import blocks, events, webhooks
from services.events.api.deps import Deps
from services.events.operations.recording import Recorder
from services.events.operations.webhooks import OnlyTeam
from services.events.settings import EventsSettings
from services.events.storage import mongo
from shared.bus import Bus
from shared.client import InternalClient
from shared.events import EventRecorder
from shared.http import make_app
from shared.mongo import connect


def build_recorder(db: Database, settings: EventsSettings, publish: Any | None) -> EventRecorder:
    return EventRecorder(
        db,
        publish=publish,
        instance=socket.gethostname(),
        lock_expiry=settings.lock_expiry,
    )


def create_app(
    settings: EventsSettings | None = None,
    *,
    db: Database | None = None,
    recorder: Recorder | None = None,
    publish: Any | None = None,
    only_team: OnlyTeam | None = None,
) -> Flask:
    settings = settings or EventsSettings.from_env()
    if db is None:
        db = connect(settings.base.mongo_url)[settings.db_name]
    if publish is None:
        publish = Bus(settings.base.amqp_url, settings.base.namespace).publish
    deps = Deps(
        events=mongo.MongoEventStore(db),
        blocks=mongo.MongoBlockStore(db),
        webhooks=mongo.MongoWebhookStore(db),
        deliveries=mongo.MongoDeliveryStore(db),
        recorder=recorder or build_recorder(db, settings, publish),
        only_team=only_team
        or TeamDirectory(InternalClient.to("auth", settings.base, caller="events")).only_team,
    )
    app = make_app(
        "events",
        settings.base,
        blueprints=[blocks.bp, webhooks.bp, events.bp],
        extensions={"deps": deps},
    )
    _ensure_indexes_once(app, db)
    return app


def _ensure_indexes_once(app: Flask, db: Database) -> None:
    done = threading.Event()
    lock = threading.Lock()

    @app.before_request
    def ensure_indexes() -> None:
        if done.is_set():
            return
        with lock:
            if not done.is_set():
                mongo.ensure_indexes(db)
                done.set()
