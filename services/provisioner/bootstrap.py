"""Composition root of the provisioner context: the one place its collaborators are made.

``connect(settings)`` wires the real adapters without any I/O;
``create_app(settings, deps)`` builds the Flask app around any bundle (tests pass
fakes). Start-up (indexes, the catalogue seeded on a fresh stack) runs in each process
before it serves. See docs/contracts.md "How a new context is written".
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.provisioner.adapters.peers import HttpApps, HttpDirectory, HttpRestarter
from services.provisioner.api import internal, plans, platforms, pools, routers
from services.provisioner.operations.deps import Config, Deps
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.storage.mongo import INDEXES, mongo_stores
from shared import mongo
from shared.bus import BestEffortPublisher, Bus
from shared.client import InternalClient
from shared.events import EventRecorder, MongoEventStorage
from shared.http import make_app
from shared.settings import Settings
from shared.wiring import Wired

BLUEPRINTS = (pools.bp, plans.bp, platforms.bp, routers.bp, internal.bp)


def config_from(settings: Settings) -> Config:
    return Config()


def connect(settings: Settings) -> Wired[Deps]:
    client = mongo.connect(settings.mongo_url)
    db = client[settings.db_name("provisioner")]
    apps = InternalClient.to("apps", settings, caller="provisioner")
    bus = Bus(settings.amqp_url, settings.namespace)
    publisher = BestEffortPublisher(bus)
    events = MongoEventStorage(client[settings.db_name("events")])
    deps = Deps(
        stores=mongo_stores(db),
        recorder=EventRecorder(
            events,
            publish=publisher.publish,
            instance="provisioner",
            lock_expiry=settings.event_lock_expiry,
        ),
        publisher=publisher,
        directory=HttpDirectory(
            InternalClient.to("auth", settings, caller="provisioner"),
            InternalClient.to("catalog", settings, caller="provisioner"),
        ),
        apps=HttpApps(apps),
        restarter=HttpRestarter(apps),
        config=config_from(settings),
    )

    def startup() -> None:
        mongo.ensure_indexes(db, INDEXES)
        events.ensure_indexes()
        seed_catalogue(deps)

    def shutdown() -> None:
        bus.close()
        client.close()

    return Wired(deps, startup, shutdown)


def create_app(
    settings: Settings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app("provisioner", settings, blueprints=BLUEPRINTS, deps=deps, startup=startup)
