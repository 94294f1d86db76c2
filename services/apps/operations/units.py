"""Unit operations through the provisioner (apps.md §8, §9.2): add and remove units,
start, stop, restart, sleep, run.

Each checks its permission on the app, opens the event of the same name (locking
the app) and hands it to the provisioner's worker with the command; the worker
writes tsuru's lines (``---- Restarting the app "shop" ----`` ...), which stream
back to the client as they come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from services.apps.domain.deploy_errors import (
    EmptyProxy,
    InvalidProxy,
    InvalidUnits,
    NoCommand,
    NoUnits,
    UnitQuotaExceeded,
)
from services.apps.domain.models import UNLIMITED, App
from services.apps.domain.versions import match_version
from services.apps.operations import commands
from services.apps.operations.deploys import app_event_access
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.events import Target
from shared.golang.strconv import NumError, parse_bool
from shared.identity import Identity
from shared.mutation import mutation

Write = Callable[[str], None]

# Units counted against the app quota (apps.md §1.3).
QUOTA_STATUSES = frozenset({"starting", "started", "stopped", "asleep"})
_MAX_UNITS = 2**32 - 1  # Go's ParseUint(s, 10, 32)


@dataclass(frozen=True)
class UnitSelector:
    """Which units an operation acts on: a process and a version (0: none given)."""

    process: str = ""
    version: str = ""


def number_of_units(raw: str) -> int:
    """tsuru's ``numberOfUnits``: checked before the app's permission."""
    if raw == "":
        raise NoUnits()
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= _MAX_UNITS:
        raise InvalidUnits()
    return int(raw)


def resolve_version(deps: Deps, app: App, raw: str) -> int:
    """``""``/``"0"``: none; otherwise a stored version by number, image or suffix."""
    if raw in ("", "0"):
        return 0
    return match_version(deps.stores.versions.of_app(app.name), raw).version


def _units(deps: Deps, app: App) -> list[dict[str, Any]]:
    found = deps.provisioner.units([app.name]).get(app.name)
    return found.units if found is not None else []


def check_quota(deps: Deps, app: App, requested: int) -> None:
    if app.quota_limit == UNLIMITED or app.quota_limit < 0:
        return
    in_use = sum(1 for u in _units(deps, app) if u.get("Status") in QUOTA_STATUSES)
    available = max(app.quota_limit - in_use, 0)
    if requested > available:
        raise UnitQuotaExceeded(available, requested)


def _command(
    deps: Deps,
    identity: Identity,
    name: str,
    permission: str,
    command: str,
    args: Callable[[App], dict[str, Any]],
    fields: list[dict[str, Any]],
    write: Write,
    *,
    cancelable: bool = True,
    before: Callable[[App], None] | None = None,
) -> dict[str, Any]:
    app = existing(deps, name)
    access = app_event_access(app)
    if not cancelable:
        access = {"visible_in": access["visible_in"]}
    with mutation(
        deps,
        identity,
        permission,
        target=Target("app", app.name),
        contexts=app.contexts(),
        custom_data=fields,
        **access,
    ) as evt:
        if before is not None:
            before(app)
        return commands.run(deps, evt, command, app, args(app), write)


def _units_args(deps: Deps, which: UnitSelector, n: int) -> Callable[[App], dict[str, Any]]:
    """The command's arguments of a units change (the version is resolved once the
    app is locked)."""

    def args(app: App) -> dict[str, Any]:
        return {
            "process": which.process,
            "version": resolve_version(deps, app, which.version),
            "n": n,
        }

    return args


def add_units(
    deps: Deps,
    identity: Identity,
    name: str,
    n: int,
    which: UnitSelector,
    fields: list[dict[str, Any]],
    write: Write,
) -> None:
    args = _units_args(deps, which, n)
    _command(
        deps, identity, name, "app.update.unit.add", "units.add", args, fields, write,
        before=lambda app: check_quota(deps, app, n),
    )  # fmt: skip


def remove_units(
    deps: Deps,
    identity: Identity,
    name: str,
    n: int,
    which: UnitSelector,
    fields: list[dict[str, Any]],
    write: Write,
) -> None:
    args = _units_args(deps, which, n)
    _command(deps, identity, name, "app.update.unit.remove", "units.remove", args, fields, write)


# route -> (permission = event kind, command)
LIFECYCLE = {
    "restart": ("app.update.restart", "restart"),
    "start": ("app.update.start", "start"),
    "stop": ("app.update.stop", "stop"),
}


def lifecycle(
    deps: Deps,
    identity: Identity,
    name: str,
    action: str,
    which: UnitSelector,
    fields: list[dict[str, Any]],
    write: Write,
) -> None:
    """Restart, start or stop the app (or one process, one version)."""
    permission, command = LIFECYCLE[action]

    def args(app: App) -> dict[str, Any]:
        return {"process": which.process, "version": resolve_version(deps, app, which.version)}

    _command(deps, identity, name, permission, command, args, fields, write)


def sleep(
    deps: Deps,
    identity: Identity,
    name: str,
    proxy: str,
    which: UnitSelector,
    fields: list[dict[str, Any]],
    write: Write,
) -> None:
    """Put the app to sleep; its routers point at ``proxy`` meanwhile. tsuru reads
    ``proxy`` before the permission; the event is not cancelable."""
    existing(deps, name)
    if not proxy:
        raise EmptyProxy()
    try:
        urlsplit(proxy)
    except ValueError as exc:
        raise InvalidProxy(proxy, str(exc)) from exc

    def args(app: App) -> dict[str, Any]:
        version = resolve_version(deps, app, which.version)
        return {"process": which.process, "version": version, "proxy": proxy}

    _command(
        deps, identity, name, "app.update.sleep", "sleep", args, fields, write, cancelable=False
    )


def _flag(raw: str) -> bool:
    try:
        return parse_bool(raw)
    except NumError:
        return False  # tsuru ignores ParseBool's error here


def run(
    deps: Deps,
    identity: Identity,
    name: str,
    command: str,
    once: str,
    isolated: str,
    fields: list[dict[str, Any]],
    write: Write,
) -> None:
    """``tsuru app-run``: on every unit, the first one (``once``) or a fresh isolated
    unit (``isolated``); output streamed, a failing command ends with an Error line."""
    if not command:
        raise NoCommand()

    def args(app: App) -> dict[str, Any]:
        return {"command": command, "once": _flag(once), "isolated": _flag(isolated)}

    _command(deps, identity, name, "app.run", "run", args, fields, write, cancelable=False)
