"""Environment variables (apps.md §3): read, set, unset; units get the new environment
through the provisioner's ``env`` command (restarted unless ``norestart``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.apps.domain import env as envs
from services.apps.domain.errors import (
    EnvNameInvalid,
    EnvPruneNeedsManager,
    EnvsMissing,
    EnvWriteProtected,
)
from services.apps.domain.models import App, EnvVar
from services.apps.operations import applog, commands
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from services.apps.operations.sinks import Sink
from shared.events import RunningEvent, Target
from shared.identity import Identity
from shared.mutation import Permit, authorize
from shared.permissions import ensure

Write = Callable[[str], None]


@dataclass(frozen=True)
class EnvItem:
    name: str
    value: str = ""
    alias: str = ""
    private: bool = False


@dataclass(frozen=True)
class EnvChange:
    envs: list[EnvItem] | None = None  # None: the field was not sent
    norestart: bool = False
    private: bool = False
    managed_by: str = ""
    prune_unused: bool = False
    items: list[EnvItem] = field(default_factory=list)


def get_env(deps: Deps, identity: Identity, name: str, names: list[str]) -> list[EnvVar] | None:
    """All merged variables, or only the app's own ones named (None: none of them)."""
    app = existing(deps, name)
    if identity.kind != "app":  # any app token of this app reads its env (tsuru)
        ensure(identity, "app.read.env", app.contexts())
    if names:
        found = [app.env[n] for n in dict.fromkeys(names) if n in app.env]
        if not found:
            return None
        token = deps.auth.app_token(app.name) if envs.APP_TOKEN_VAR in names else ""
        return list(envs.with_token({e.name: e for e in found}, token).values())
    return unit_env(deps, app)


def unit_env(deps: Deps, app: App) -> list[EnvVar]:
    """What a unit gets: every merged variable, private values included, by name."""
    merged = envs.with_token(envs.merged_env(app), deps.auth.app_token(app.name))
    return [merged[k] for k in sorted(merged)]


def check_set(change: EnvChange) -> None:
    """tsuru's checks before the permission (apps.md §3.3 rules 1-3)."""
    if not change.managed_by and not change.envs:
        raise EnvsMissing()
    if change.prune_unused and not change.managed_by:
        raise EnvPruneNeedsManager()
    if any(item.name in envs.PROTECTED for item in change.envs or []):
        raise EnvWriteProtected()


def permit_set(deps: Deps, identity: Identity, name: str) -> tuple[App, Permit]:
    app = existing(deps, name)
    return app, authorize(identity, "app.update.env.set", app.contexts())


def set_env(
    deps: Deps, permit: Permit, app: App, change: EnvChange, fields: Any, write: Write
) -> None:
    with permit.record(deps.recorder, target=Target("app", app.name), custom_data=fields) as evt:
        evt.attach(Sink(write))
        items = change.envs or []
        for item in items:
            if envs.NAME.fullmatch(item.name) is None:
                raise EnvNameInvalid(item.name)
        if items:
            evt.log(f"---- Setting {len(items)} new environment variables ----\n")
        variables = [
            EnvVar(i.name, i.value, i.alias, not (i.private or change.private), change.managed_by)
            for i in items
        ]
        prune = change.managed_by if change.prune_unused else ""
        pruned = deps.stores.apps.set_envs(app.name, variables, prune)
        for gone in sorted(pruned):
            evt.log(f"---- Pruning {gone} from environment variables ----\n")
        applog.tsuru_lines(
            deps,
            app.name,
            [f"setting env {v.name} with value {v.value}" for v in variables if v.public],
        )
        _apply(deps, evt, app.name, restart=not change.norestart, write=write)


def permit_unset(deps: Deps, identity: Identity, name: str, names: list[str]) -> tuple[App, Permit]:
    if not names or not names[0]:
        raise EnvsMissing(".")
    app = existing(deps, name)
    return app, authorize(identity, "app.update.env.unset", app.contexts())


def run_unset(
    deps: Deps, permit: Permit, app: App, names: list[str], norestart: bool, fields: Any,
    write: Write,
) -> None:  # fmt: skip
    with permit.record(deps.recorder, target=Target("app", app.name), custom_data=fields) as evt:
        evt.attach(Sink(write))
        evt.log(f"---- Unsetting {len(names)} environment variables ----\n")
        deps.stores.apps.unset_envs(app.name, names)
        _apply(deps, evt, app.name, restart=not norestart, write=write)


def _apply(deps: Deps, evt: RunningEvent, name: str, *, restart: bool, write: Write) -> None:
    """Give the provisioner the new environment (restarting units unless told not to)."""
    app = existing(deps, name)
    commands.run(deps, evt, "env", app, {"restart": restart}, write)
