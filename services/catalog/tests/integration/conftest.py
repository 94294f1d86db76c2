"""The catalog service on its real adapters: MongoDB, the event log, service APIs and
brokers over HTTP, the apps context over HTTP (the fake apps peer that passes the
shared contract); pools and teams in memory (the provisioner and auth are not here)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from services.catalog.adapters.clients import HttpServiceClients
from services.catalog.adapters.contexts import HttpApps
from services.catalog.adapters.events import StoredEvents
from services.catalog.adapters.outbound import Limits, Outbound
from services.catalog.adapters.proxy import HttpProxy
from services.catalog.bootstrap import create_app
from services.catalog.operations.deps import Config, Deps
from services.catalog.settings import CatalogSettings
from services.catalog.storage.mongo import INDEXES, mongo_stores
from services.catalog.tests.fakes import MemoryPools, MemoryTeams
from services.catalog.tests.peers.apps import FakeApps
from services.catalog.tests.peers.broker import FakeBroker
from services.catalog.tests.peers.service_api import FakeServiceApi
from services.catalog.tests.unit.conftest import BufferedClient
from shared.client import InternalClient
from shared.events import EventRecorder, MongoEventStorage
from shared.mongo import ensure_indexes
from shared.settings import Settings
from shared.testing.bus import RecordingPublisher

SECRET = b"catalog-unit-secret-0123456789"  # the unit conftest's, so its user() signs here


@dataclass
class World:
    app: Flask
    deps: Deps
    api: FakeServiceApi
    broker: FakeBroker
    apps: FakeApps


@pytest.fixture
def world(mongo_client, namespace: str) -> Iterator[World]:  # type: ignore[no-untyped-def]
    name = f"{namespace}_catalog_{secrets.token_hex(3)}"
    db = mongo_client[name]
    ensure_indexes(db, INDEXES)
    events = MongoEventStorage(mongo_client[f"{name}_events"])
    events.ensure_indexes()
    api, broker, apps = FakeServiceApi(), FakeBroker(), FakeApps(SECRET)
    publisher = RecordingPublisher()
    deps = Deps(
        stores=mongo_stores(db),
        recorder=EventRecorder(events, publish=publisher.publish, instance="catalog-test"),
        publisher=publisher,
        clients=HttpServiceClients(Outbound(Limits(timeout=10))),
        apps=HttpApps(InternalClient("apps", [apps.url], secret=SECRET, caller="catalog")),
        pools=MemoryPools(),
        teams=MemoryTeams(),
        proxy=HttpProxy(),
        events=StoredEvents(events),
        config=Config(),
    )
    settings = CatalogSettings.from_settings(Settings("/nonexistent", name, "", "", SECRET))
    app = create_app(settings, deps)
    app.test_client_class = BufferedClient
    try:
        yield World(app, deps, api, broker, apps)
    finally:
        for peer in (api, broker, apps):
            peer.close()
        mongo_client.drop_database(name)
        mongo_client.drop_database(f"{name}_events")
