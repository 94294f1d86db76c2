"""Composition root of the auth service."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from services.auth.adapters.team_usage import HttpTeamUsage
from services.auth.api import internal, roles, sessions, teams, tokens, users
from services.auth.domain.secrets import apikey_key
from services.auth.messaging.mailer import SmtpMailer
from services.auth.messaging.publisher import BusPublisher
from services.auth.operations.admin import ensure_admin
from services.auth.operations.ports import Config, Deps, Mailer, Publisher, Recorder, TeamUsage
from services.auth.operations.sessions import LocalGrants
from services.auth.settings import AuthSettings
from services.auth.storage.mongo import ensure_indexes, mongo_repos
from services.auth.storage.ports import Repos
from shared.client import InternalClient
from shared.http import make_app
from shared.settings import Settings

log = logging.getLogger(__name__)

BLUEPRINTS = (sessions.bp, users.bp, teams.bp, tokens.bp, roles.bp, internal.bp)


def config_from(settings: AuthSettings) -> Config:
    return Config(
        hash_cost=settings.hash_cost,
        token_expire_days=settings.token_expire_days,
        registration=settings.registration,
        apikey_key=apikey_key(settings.base.identity_secret),
        # quota:apps-per-user applies only when > -1; anything lower is unlimited.
        user_quota=settings.user_quota if settings.user_quota > -1 else -1,
        team_quota=settings.team_quota,
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
    password = ensure_admin(deps, settings.admin_email, settings.admin_password)
    if password is not None:
        path = write_admin_file(settings.base.data_dir, settings.admin_email, password)
        log.warning("created administrator %s; credentials in %s", settings.admin_email, path)


def production_deps(settings: AuthSettings) -> Deps:
    """Real adapters: MongoDB, the bus, SMTP, the event log, the other contexts."""
    from shared.bus import Bus
    from shared.events import EventRecorder
    from shared.mongo import connect

    base = settings.base
    client = connect(base.mongo_url)
    db = client[base.db_name("auth")]
    ensure_indexes(db)
    bus = Bus(base.amqp_url, base.namespace)
    publisher = BusPublisher(bus)
    recorder = EventRecorder(
        client[base.db_name("events")],
        publish=publisher.publish,
        instance="auth",
        lock_expiry=base.event_lock_expiry,
    )
    recorder.ensure_indexes()
    return Deps(
        repos=mongo_repos(db),
        recorder=recorder,
        publisher=publisher,
        mailer=SmtpMailer(settings.smtp_server, settings.smtp_user, settings.smtp_password),
        team_usage=HttpTeamUsage(
            InternalClient.to("apps", base, caller="auth"),
            InternalClient.to("catalog", base, caller="auth"),
        ),
        config=config_from(settings),
    )


def create_app(
    settings: Settings | AuthSettings | None = None,
    *,
    repos: Repos | None = None,
    publisher: Publisher | None = None,
    mailer: Mailer | None = None,
    recorder: Recorder | None = None,
    team_usage: TeamUsage | None = None,
) -> Flask:
    """The auth service. With no collaborators given, everything real is wired and
    the first administrator is ensured (idempotent across workers)."""
    if settings is None:
        auth_settings = AuthSettings.from_env()
    elif isinstance(settings, Settings):
        auth_settings = AuthSettings.from_settings(settings)
    else:
        auth_settings = settings
    if repos is None:
        deps = production_deps(auth_settings)
        if publisher is not None:
            deps.publisher = publisher
        if mailer is not None:
            deps.mailer = mailer
        if recorder is not None:
            deps.recorder = recorder
        if team_usage is not None:
            deps.team_usage = team_usage
        bootstrap_admin(deps, auth_settings)
    else:
        from services.auth.adapters.team_usage import NoTeamUsage

        if publisher is None or mailer is None or recorder is None:
            raise ValueError("create_app(repos=...) needs publisher, mailer and recorder too")
        deps = Deps(
            repos=repos,
            recorder=recorder,
            publisher=publisher,
            mailer=mailer,
            team_usage=team_usage or NoTeamUsage(),
            config=config_from(auth_settings),
        )
    return make_app(
        "auth",
        auth_settings.base,
        blueprints=BLUEPRINTS,
        extensions={"deps": deps},
        grants=LocalGrants(deps),
    )
