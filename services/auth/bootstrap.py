"""Composition root of the auth service: the one place its collaborators are made.

``connect(settings)`` wires the real adapters (MongoDB, the bus, SMTP, the event log,
the other contexts) without any I/O; ``create_app(settings, deps)`` builds the Flask
app around any bundle (tests pass fakes). Start-up (indexes, the first
administrator) runs in each process before it serves::

    wired = connect(settings)
    app = create_app(settings, wired.deps, startup=wired.startup)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from services.auth.adapters.mailer import SmtpMailer
from services.auth.adapters.team_usage import HttpTeamUsage
from services.auth.api import apps_internal, internal, roles, sessions, teams, tokens, users
from services.auth.domain.secrets import apikey_key, apptoken_key
from services.auth.operations.admin import ensure_admin
from services.auth.operations.deps import Config, Deps
from services.auth.operations.sessions import LocalGrants
from services.auth.settings import AuthSettings
from services.auth.storage.mongo import INDEXES, mongo_stores
from shared import mongo
from shared.bus import BestEffortPublisher, Bus
from shared.client import InternalClient
from shared.events import BLOCKS_CACHE_SECONDS, EventRecorder, MongoEventStorage
from shared.http import make_app
from shared.wiring import Wired

log = logging.getLogger(__name__)

BLUEPRINTS = (sessions.bp, users.bp, teams.bp, tokens.bp, roles.bp, internal.bp, apps_internal.bp)


def config_from(settings: AuthSettings) -> Config:
    return Config(
        hash_cost=settings.hash_cost,
        token_expire_days=settings.token_expire_days,
        registration=settings.registration,
        apikey_key=apikey_key(settings.base.identity_secret),
        apptoken_key=apptoken_key(settings.base.identity_secret),
        # quota:apps-per-user applies only when > -1; anything lower is unlimited.
        user_quota=settings.user_quota if settings.user_quota > -1 else -1,
        team_quota=settings.team_quota,
    )


def connect(settings: AuthSettings) -> Wired[Deps]:
    base = settings.base
    client = mongo.connect(base.mongo_url, socket_timeout=base.mongo_socket_timeout)
    db = client[base.db_name("auth")]
    events = MongoEventStorage(client[base.db_name("events")])
    publisher = BestEffortPublisher(Bus(base.amqp_url, base.namespace))
    deps = Deps(
        stores=mongo_stores(db),
        recorder=EventRecorder(
            events,
            publish=publisher.notify,
            instance="auth",
            lock_expiry=base.event_lock_expiry,
            blocks_cache=BLOCKS_CACHE_SECONDS,
        ),
        publisher=publisher,
        mailer=SmtpMailer(settings.smtp_server, settings.smtp_user, settings.smtp_password),
        team_usage=HttpTeamUsage(
            InternalClient.to("apps", base, caller="auth"),
            InternalClient.to("catalog", base, caller="auth"),
        ),
        config=config_from(settings),
    )

    def startup() -> None:
        mongo.ensure_indexes(db, INDEXES)
        events.ensure_indexes()
        bootstrap_admin(deps, settings)

    return Wired(deps, startup)


def create_app(
    settings: AuthSettings, deps: Deps, *, startup: Callable[[], None] | None = None
) -> Flask:
    return make_app(
        "auth",
        settings.base,
        blueprints=BLUEPRINTS,
        deps=deps,
        startup=startup,
        # The auth service resolves digest-only identities from its own storage.
        grants=LocalGrants(deps),
    )


def write_admin_file(data_dir: str, email: str, password: str) -> Path:
    """``admin.txt`` (0600), read once by the launcher: ``email=...`` / ``password=...``."""
    path = Path(data_dir) / "admin.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"email={email}\npassword={password}\n")
    os.chmod(path, 0o600)
    return path


def bootstrap_admin(deps: Deps, settings: AuthSettings) -> None:
    """The first administrator, once per stack (idempotent across processes)."""
    password = ensure_admin(deps, settings.admin_email, settings.admin_password)
    if password is not None:
        path = write_admin_file(settings.base.data_dir, settings.admin_email, password)
        log.warning("created administrator %s; credentials in %s", settings.admin_email, path)
