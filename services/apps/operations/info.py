"""``GET /apps/{app}`` (apps.md §1.1): the stored app with its live units, addresses,
quota use and bound service instances. A sub-lookup that fails is reported in
``error`` and the answer is still 200, as tsuru does."""

from __future__ import annotations

import contextvars
import threading
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


def app_binds(deps: Deps, app: App, errors: list[str]) -> list[dict[str, str]]:
    try:
        return deps.catalog.binds(app.name)
    except TsubameError as exc:
        errors.append(f"unable to get service instance bound to app: {exc.message}")
        return []


def app_info(deps: Deps, identity: Identity, name: str) -> AppInfo:
    app = existing(deps, name)
    ensure(identity, "app.read.info", app.contexts())
    # The provisioner and the catalog are asked at once: the answer waits for the
    # slower of the two instead of both in turn (a greenlet under the gevent workers).
    bind_errors: list[str] = []
    answer: list[Any] = []

    def ask_catalog() -> None:
        try:
            answer.append(app_binds(deps, app, bind_errors))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller below
            answer.append(exc)

    context = contextvars.copy_context()  # the request id goes with the call
    asking = threading.Thread(target=context.run, args=(ask_catalog,))
    asking.start()
    errors: list[str] = []
    try:
        units = app_units(deps, app, errors)
    finally:
        asking.join()
    if isinstance(answer[0], BaseException):
        raise answer[0]
    binds: list[dict[str, str]] = answer[0]
    errors.extend(bind_errors)
    return AppInfo(
        app=app,
        address=rules.address(app, deps.config.address_domain),
        units=units,
        binds=binds,
        inuse=rules.units_in_use(units),
        errors=errors,
    )
