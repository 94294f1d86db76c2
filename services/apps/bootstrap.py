"""Composition root of the apps context: the one place its collaborators are made.

``connect(settings)`` wires the real adapters (MongoDB, the bus, the provisioner,
auth and catalog contexts over internal HTTP) without any I/O;
``create_app(settings, deps)`` builds the Flask app around any bundle (tests pass
fakes). See docs/contracts.md "How a new context is written".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from services.apps.adapters.archives import ArchiveSpool
from services.apps.adapters.auth import HttpAuth
from services.apps.adapters.bus_feed import BusLogFeed
from services.apps.adapters.catalog import HttpCatalog
from services.apps.adapters.event_log import StorageEventLog
from services.apps.adapters.provisioner import HttpProvisioner
from services.apps.api import (
    access,
    apps,
    archives,
    autoscale,
    deploy_list,
    deploys,
    env,
    internal,
    logs,
    names,
    nodes,
    rollback,
    routers,
    shell,
    unit_agent,
    units,
)
from services.apps.operations.deps import Config, Deps
from services.apps.settings import AppsSettings
from services.apps.storage.mongo import INDEXES, mongo_stores
from shared import mongo
from shared.bus import BestEffortPublisher, Bus
from shared.client import InternalClient
from shared.events import BLOCKS_CACHE_SECONDS, EventRecorder, MongoEventStorage
from shared.http import Blueprint, make_app
from shared.wiring import Wired

# The app core: CRUD, env, logs, access, names, routers, unit agents, internal calls.
CORE_BLUEPRINTS: tuple[Blueprint, ...] = (
    apps.bp, env.bp, logs.bp, access.bp, names.bp, routers.bp, unit_agent.bp, internal.bp,
)  # fmt: skip
# The deploy family, unit operations and the shell (their modules install the
# upload spooling and the websocket take-over when registered).
DEPLOY_BLUEPRINTS: tuple[Blueprint, ...] = (
    deploys.bp,
    rollback.bp,
    deploy_list.bp,
    units.bp,
    autoscale.bp,
    nodes.bp,
    shell.bp,
    archives.bp,
)
BLUEPRINTS: tuple[Blueprint, ...] = CORE_BLUEPRINTS + DEPLOY_BLUEPRINTS


def archive_spool(settings: AppsSettings) -> ArchiveSpool:
    """Uploaded archives under the data directory every apps process shares."""
    return ArchiveSpool(Path(settings.base.data_dir, "apps", "archives"))


def config_from(settings: AppsSettings) -> Config:
    return Config(
        units_per_app=settings.units_per_app,
        apps_domain=settings.apps_domain,
        apps_port=settings.apps_port,
        log_max_lines=settings.log_max_lines,
        api_host=(urlsplit(settings.base.public_url).hostname or "").lower(),
    )


def connect(settings: AppsSettings) -> Wired[Deps]:
    base = settings.base
    client = mongo.connect(base.mongo_url, socket_timeout=base.mongo_socket_timeout)
    db = client[base.db_name("apps")]
    bus = Bus(base.amqp_url, base.namespace)
    publisher = BestEffortPublisher(bus)
    events = MongoEventStorage(client[base.db_name("events")])
    deps = Deps(
        stores=mongo_stores(db, log_max_lines=settings.log_max_lines),
        recorder=EventRecorder(
            events,
            publish=publisher.notify,
            blocks_cache=BLOCKS_CACHE_SECONDS,
            instance="apps",
            lock_expiry=base.event_lock_expiry,
        ),
        publisher=publisher,
        provisioner=HttpProvisioner(InternalClient.to("provisioner", base, caller="apps"), bus),
        auth=HttpAuth(InternalClient.to("auth", base, caller="apps")),
        catalog=HttpCatalog(InternalClient.to("catalog", base, caller="apps")),
        archives=archive_spool(settings),
        event_log=StorageEventLog(events),
        config=config_from(settings),
        log_feed=BusLogFeed(publisher, base.amqp_url, base.namespace),
    )

    def startup() -> None:
        mongo.ensure_indexes(db, INDEXES)
        events.ensure_indexes()

    def shutdown() -> None:
        bus.close()
        client.close()

    return Wired(deps, startup, shutdown)


def create_app(
    settings: AppsSettings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app("apps", settings.base, blueprints=BLUEPRINTS, deps=deps, startup=startup)
