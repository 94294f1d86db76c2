"""What other contexts ask the apps context (docs/runtime.md): an app's lookup, its
service env vars, which apps use a team, a pool or a platform, the certificates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.apps.domain import rules
from services.apps.domain.models import App, AppQuery, ServiceEnv
from services.apps.operations import commands
from services.apps.operations.deps import Deps
from services.apps.operations.info import app_units
from services.apps.operations.lookup import existing

Write = Callable[[str], None]
_APP_UUIDS = uuid.UUID("6f1c9a4e-6b8f-4b0e-9a55-2b8f8d3c1e10")


@dataclass(frozen=True)
class AppLookup:
    app: App
    address: str
    units: list[dict[str, Any]]
    uuid: str


def lookup(deps: Deps, name: str) -> AppLookup:
    app = existing(deps, name)
    units = app_units(deps, app, [])
    return AppLookup(
        app=app,
        address=rules.address(app, deps.config.address_domain),
        units=units,
        uuid=str(uuid.uuid5(_APP_UUIDS, app.name)),
    )


def _restart(deps: Deps, name: str, restart: bool, write: Write) -> None:
    if not restart:
        return
    app = existing(deps, name)
    if not app_units(deps, app, []):
        return  # tsuru restarts only an app with units
    # The catalog's event holds the app's lock: the command carries no event.
    replies = deps.provisioner.command("env", commands.spec(deps, app), {"restart": True})
    commands.relay(replies, write)


def restart_for_peer(deps: Deps, name: str, write: Write) -> None:
    """A restart another context asks for (the provisioner's volume bind or unbind):
    the caller's event holds the app's lock, so the command carries no event and apps
    writes nothing of its own; an app without units has nothing to restart."""
    app = existing(deps, name)
    if not app_units(deps, app, []):
        return
    replies = deps.provisioner.command(
        "restart", commands.spec(deps, app), {"process": "", "version": 0}
    )
    commands.relay(replies, write)


def set_service_envs(
    deps: Deps, name: str, service: str, instance: str, envs: dict[str, str], restart: bool,
    write: Write,
) -> None:  # fmt: skip
    existing(deps, name)
    deps.stores.apps.remove_service_envs(name, service, instance)
    if not envs:
        return
    fresh = [ServiceEnv(k, str(envs[k]), service, instance) for k in sorted(envs)]
    deps.stores.apps.add_service_envs(name, fresh)
    write(f"---- Setting {len(envs) + 1} new environment variables ----\n")
    _restart(deps, name, restart, write)


def unset_service_envs(
    deps: Deps, name: str, service: str, instance: str, restart: bool, write: Write
) -> None:
    existing(deps, name)
    gone = deps.stores.apps.remove_service_envs(name, service, instance)
    if not gone:
        return
    write(f"---- Unsetting {len(gone)} environment variables ----\n")
    _restart(deps, name, restart, write)


def owned_apps(deps: Deps, team: str) -> list[App]:
    """Apps the team owns and may access (auth's team info)."""
    q = AppQuery(team_owner=team)
    return [a for page in deps.stores.apps.query(q) for a in page if team in a.teams]


def team_apps(deps: Deps, team: str) -> list[str]:
    return deps.stores.apps.names_with_team(team)


def pool_apps(deps: Deps, pool: str) -> list[str]:
    return deps.stores.apps.names_in_pool(pool)


def platform_apps(deps: Deps, platform: str) -> list[str]:
    return deps.stores.apps.names_with_platform(platform)
