"""Composition root of the provisioner context: the one place its collaborators are made.

``connect(settings)`` wires the real adapters without any I/O;
``create_app(settings, deps)`` builds the Flask app around any bundle (tests pass
fakes). Start-up (indexes, the catalogue seeded on a fresh stack) runs in each process
before it serves. See docs/contracts.md "How a new context is written". The worker also
makes the runtime's bundle (``runtime_deps``): the backend that runs units, the app log
forwarder, the archive fetcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from flask import Flask

from services.provisioner import settings as provisioner_settings
from services.provisioner.adapters.applog import BusAppLog
from services.provisioner.adapters.archives import HttpArchiveSource
from services.provisioner.adapters.healthcheck import HttpHealthChecker
from services.provisioner.adapters.host import LocalHost
from services.provisioner.adapters.nodes import CatalogueNodes
from services.provisioner.adapters.peers import HttpApps, HttpDirectory, HttpRestarter
from services.provisioner.adapters.runtime_commands import BusRuntimeCommands
from services.provisioner.adapters.shells import DockerShells, ProcessShells, Shells
from services.provisioner.adapters.unavailable import UnavailableBackend
from services.provisioner.adapters.usage import ProcessUsage, Reader, Usages
from services.provisioner.adapters.volumes import LocalVolumes
from services.provisioner.api import (
    autoscale,
    clusters,
    docker,
    healing,
    iaas,
    internal,
    nodecontainers,
    nodes,
    plans,
    platforms,
    pools,
    routers,
    runtime,
    shell,
    volumes,
)
from services.provisioner.api.units_view import RuntimeUnits
from services.provisioner.backends.base import Backend, BackendError, LogSink
from services.provisioner.backends.dispatch import Backends
from services.provisioner.backends.docker import DockerBackend, DockerConfig
from services.provisioner.backends.process.config import ProcessConfig
from services.provisioner.operations.deps import DOCKER, PROCESS, Config, Deps
from services.provisioner.operations.nodecontainers import seed_big_sibling
from services.provisioner.operations.nodes import register_local_node
from services.provisioner.operations.platforms import image_namespace
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.volumes import mounts_for
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.storage.mongo import INDEXES, mongo_stores
from services.provisioner.storage.mongo.runtime import RUNTIME_INDEXES, mongo_runtime_stores
from shared import mongo
from shared.bus import BestEffortPublisher, Bus
from shared.client import InternalClient
from shared.events import BLOCKS_CACHE_SECONDS, EventRecorder, MongoEventStorage
from shared.http import make_app
from shared.settings import Settings
from shared.wiring import Wired

log = logging.getLogger(__name__)

BLUEPRINTS = (pools.bp, plans.bp, platforms.bp, routers.bp, internal.bp, runtime.bp, shell.bp,
              nodes.bp, healing.bp, autoscale.bp, nodecontainers.bp, docker.bp, clusters.bp,
              volumes.bp, iaas.bp)  # fmt: skip


def config_from(settings: Settings) -> Config:
    raw = settings.get("TSUBAME_PROVISIONERS").strip() or PROCESS
    names = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    # Only a stack with docker nodes builds images (a process-only one keeps tsuru's names).
    space = image_namespace(settings.namespace) if DOCKER in names else ""
    return Config(default_provisioner=names[0], provisioners=names, image_namespace=space)


def connect(settings: Settings) -> Wired[Deps]:
    client = mongo.connect(settings.mongo_url, socket_timeout=settings.mongo_socket_timeout)
    db = client[settings.db_name("provisioner")]
    runtime_stores = mongo_runtime_stores(db)
    apps = InternalClient.to("apps", settings, caller="provisioner")
    bus = Bus(settings.amqp_url, settings.namespace)
    publisher = BestEffortPublisher(bus)
    events = MongoEventStorage(client[settings.db_name("events")])
    deps = Deps(
        stores=mongo_stores(db),
        recorder=EventRecorder(
            events,
            publish=publisher.notify,
            blocks_cache=BLOCKS_CACHE_SECONDS,
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
        runtime=runtime_stores,
        units=RuntimeUnits(runtime_stores),
        config=config_from(settings),
        runtime_commands=BusRuntimeCommands(bus),
    )
    volumes = LocalVolumes(provisioner_settings.volumes_dir(settings))
    env = {"TSUBAME_DATA_DIR": settings.data_dir, **settings.extra}
    deps.shells = Shells(
        ProcessShells(env, mounts=lambda app: mounts_for(deps.stores, volumes, app)),
        DockerShells(
            env, settings.namespace, mounts=lambda app: mounts_for(deps.stores, volumes, app)
        )
        if DOCKER in deps.config.provisioners
        else None,
    )

    def startup() -> None:
        mongo.ensure_indexes(db, INDEXES)
        mongo.ensure_indexes(db, RUNTIME_INDEXES)
        events.ensure_indexes()
        seed_catalogue(deps)
        seed_big_sibling(deps, settings.public_url)
        if PROCESS in deps.config.provisioners:
            register_local_node(deps, ProcessConfig(root="").node)

    def shutdown() -> None:
        bus.close()
        client.close()

    return Wired(deps, startup, shutdown)


def runtime_deps(settings: Settings, deps: Deps) -> tuple[RuntimeDeps, Callable[[], None]]:
    """The worker's runtime bundle (after ``startup``: making the backend touches its
    root) and what stops its threads."""
    from services.provisioner.backends.process import ProcessBackend

    app_log = BusAppLog(deps.publisher).start()
    env = {"TSUBAME_DATA_DIR": settings.data_dir, **settings.extra}
    process = ProcessConfig.from_env(env)
    members: dict[str, Backend] = {}
    try:
        members[PROCESS] = ProcessBackend(process, app_log.unit_line)
    except BackendError as exc:
        # Serve anyway: commands fail with the reason (the root's mode, ...), the rest of
        # the stack runs.
        log.error("the process backend cannot start: %s", exc)
        members[PROCESS] = UnavailableBackend(PROCESS, str(exc))
    health, runner, images = None, None, None
    usages: list[Reader] = [ProcessUsage(process.root)]
    if DOCKER in deps.config.provisioners:
        docker = docker_backend(settings, deps, app_log.unit_line)
        members[DOCKER] = docker
        health, runner, images = docker.health, docker.node_containers, docker.platform_images
        usages.append(docker)
    backend = Backends(members)
    apps = InternalClient.to("apps", settings, caller="provisioner", timeout=60.0)
    config = replace(
        provisioner_settings.runtime_config(settings),
        default_provisioner=deps.config.default_provisioner,
    )
    bundle = RuntimeDeps(
        stores=deps.runtime,
        backend=backend,
        recorder=deps.recorder,
        publisher=deps.publisher,
        archives=HttpArchiveSource(apps if apps.configured else None),
        health=HttpHealthChecker(),
        app_log=app_log,
        usage=Usages(usages),
        host=LocalHost(),
        config=config,
        catalogue=deps.stores,
        volume_dirs=LocalVolumes(provisioner_settings.volumes_dir(settings)),
        node_health=health,
        node_runner=runner,
        platform_images=images,
    )

    def close() -> None:
        backend.close()
        app_log.close()

    return bundle, close


def docker_backend(settings: Settings, deps: Deps, sink: LogSink) -> DockerBackend:
    """The docker backend over the docker nodes registered through the API."""
    env = {"TSUBAME_DATA_DIR": settings.data_dir, **settings.extra}
    config = DockerConfig.from_env(env, namespace=settings.namespace)
    return DockerBackend(config, CatalogueNodes(deps.stores.nodes), sink)


def create_app(
    settings: Settings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app("provisioner", settings, blueprints=BLUEPRINTS, deps=deps, startup=startup)
