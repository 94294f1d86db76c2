"""Composition root of the catalog context: the one place its collaborators are made.

``connect(settings)`` wires the real adapters (MongoDB, the bus, service APIs and
brokers over HTTP, the apps, provisioner and auth contexts) without any I/O;
``create_app(settings, deps)`` builds the Flask app around any bundle (tests pass
fakes). See docs/contracts.md "How a new context is written".
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.catalog.adapters.clients import HttpServiceClients
from services.catalog.adapters.contexts import HttpApps, HttpPools, HttpTeams
from services.catalog.adapters.events import StoredEvents
from services.catalog.adapters.outbound import Limits, Outbound
from services.catalog.adapters.proxy import HttpProxy
from services.catalog.api import binds, brokers, instances, internal, proxy, services
from services.catalog.operations.deps import Config, Deps
from services.catalog.settings import CatalogSettings
from services.catalog.storage.mongo import INDEXES, mongo_stores
from shared import mongo
from shared.bus import BestEffortPublisher, Bus
from shared.client import InternalClient
from shared.events import BLOCKS_CACHE_SECONDS, EventRecorder, MongoEventStorage
from shared.http import make_app
from shared.wiring import Wired

BLUEPRINTS = (services.bp, instances.bp, binds.bp, brokers.bp, proxy.bp, internal.bp)
# A restart relayed through the apps context may stay silent between its keep-alives.
APPS_READ_TIMEOUT = 120.0


def connect(settings: CatalogSettings) -> Wired[Deps]:
    base = settings.base
    client = mongo.connect(base.mongo_url, socket_timeout=base.mongo_socket_timeout)
    db = client[base.db_name("catalog")]
    bus = Bus(base.amqp_url, base.namespace)
    publisher = BestEffortPublisher(bus)
    events = MongoEventStorage(client[base.db_name("events")])
    limits = Limits(
        connect_timeout=settings.api_connect_timeout,
        timeout=settings.api_timeout,
        max_body=settings.api_max_bytes,
    )
    deps = Deps(
        stores=mongo_stores(db),
        recorder=EventRecorder(
            events,
            publish=publisher.notify,
            blocks_cache=BLOCKS_CACHE_SECONDS,
            instance="catalog",
            lock_expiry=base.event_lock_expiry,
        ),
        publisher=publisher,
        clients=HttpServiceClients(Outbound(limits)),
        apps=HttpApps(InternalClient.to("apps", base, caller="catalog", timeout=APPS_READ_TIMEOUT)),
        pools=HttpPools(InternalClient.to("provisioner", base, caller="catalog")),
        teams=HttpTeams(InternalClient.to("auth", base, caller="catalog")),
        proxy=HttpProxy(
            connect_timeout=settings.api_connect_timeout,
            read_timeout=settings.proxy_timeout,
            max_bytes=settings.proxy_max_bytes,
        ),
        events=StoredEvents(events),
        config=Config(
            sync_interval=settings.sync_interval, catalog_ttl=settings.broker_cache_seconds
        ),
    )

    def startup() -> None:
        mongo.ensure_indexes(db, INDEXES)
        events.ensure_indexes()

    def shutdown() -> None:
        bus.close()
        client.close()

    return Wired(deps, startup, shutdown)


def create_app(
    settings: CatalogSettings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app("catalog", settings.base, blueprints=BLUEPRINTS, deps=deps, startup=startup)
