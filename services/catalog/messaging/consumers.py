"""The catalog worker's bus consumers (docs/runtime.md "Bus messages")."""

from __future__ import annotations

from typing import Any

from services.catalog.domain.models import AppUnit
from services.catalog.operations import internal
from services.catalog.operations.deps import Deps
from shared.bus import keys
from shared.worker import Consumer

APP_REMOVED_QUEUE = "catalog.app-removed"
UNITS_QUEUE = "catalog.units-changed"


def _units(raw: Any) -> list[AppUnit]:
    return [
        AppUnit(str(u.get("id", "")), str(u.get("ip", "")))
        for u in raw or []
        if isinstance(u, dict) and u.get("id")
    ]


def consumers(deps: Deps) -> list[Consumer]:
    def on_app_removed(_key: str, body: dict[str, Any]) -> None:
        app = str(body.get("app") or "")
        if app:
            internal.app_removed(deps, app)

    def on_units_changed(_key: str, body: dict[str, Any]) -> None:
        app = str(body.get("app") or "")
        if app:
            added, removed = _units(body.get("added")), _units(body.get("removed"))
            internal.units_changed(deps, app, added, removed)

    return [
        Consumer(APP_REMOVED_QUEUE, [keys.APP_REMOVED], on_app_removed),
        Consumer(UNITS_QUEUE, [keys.UNITS_CHANGED], on_units_changed),
    ]
