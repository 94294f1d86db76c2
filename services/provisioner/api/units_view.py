"""The runtime's units as the catalogue's node routes show them (``deps.units``): tsuru's
Unit objects built from the runtime's records, by node or by app."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.provisioner.api.unit_json import unit_json
from services.provisioner.operations.runtime.reads import units_of, units_of_apps
from services.provisioner.storage.runtime_ports import RuntimeStores


class RuntimeUnits:
    def __init__(self, stores: RuntimeStores) -> None:
        self.stores = stores

    def _render(self, wanted: list[Any]) -> list[dict[str, Any]]:
        by_app: dict[str, set[str]] = defaultdict(set)
        for unit in wanted:
            by_app[unit.app].add(unit.id)
        out = []
        for owner in units_of_apps(self.stores, list(by_app)):
            out += [unit_json(u, owner) for u in owner.units if u.id in by_app[owner.app]]
        return out

    def all(self) -> list[dict[str, Any]]:
        return self._render(self.stores.units.all())

    def by_node(self, address: str) -> list[dict[str, Any]]:
        return self._render([u for u in self.stores.units.all() if u.node == address])

    def by_app(self, app: str) -> list[dict[str, Any]]:
        owner = units_of(self.stores, app)
        return [unit_json(u, owner) for u in owner.units]
