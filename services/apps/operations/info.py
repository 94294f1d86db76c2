"""``GET /apps/{app}`` (apps.md §1.1): the stored app with its live units, addresses,
quota use and bound service instances. A sub-lookup that fails is reported in
``error`` and the answer is still 200, as tsuru does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.apps.domain import rules
from services.apps.domain.models import App
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.errors import TsubameError
from shared.identity import Identity
from shared.permissions import ensure


@dataclass
class AppInfo:
    app: App
    address: str
    units: list[dict[str, Any]] = field(default_factory=list)
    binds: list[dict[str, str]] = field(default_factory=list)
    inuse: int = 0
    errors: list[str] = field(default_factory=list)


def app_units(deps: Deps, app: App, errors: list[str]) -> list[dict[str, Any]]:
    try:
        got = deps.provisioner.units([app.name]).get(app.name)
    except TsubameError as exc:
        errors.append(f"unable to list app units: {exc.message}")
        return []
    if got is None:
        return []
    if got.error:
        errors.append(f"unable to list app units: {got.error}")
    return got.units


def app_info(deps: Deps, identity: Identity, name: str) -> AppInfo:
    app = existing(deps, name)
    ensure(identity, "app.read.info", app.contexts())
    errors: list[str] = []
    units = app_units(deps, app, errors)
    try:
        binds = deps.catalog.binds(app.name)
    except TsubameError as exc:
        errors.append(f"unable to get service instance bound to app: {exc.message}")
        binds = []
    return AppInfo(
        app=app,
        address=rules.address(app, deps.config.address_domain),
        units=units,
        binds=binds,
        inuse=rules.units_in_use(units),
        errors=errors,
    )
