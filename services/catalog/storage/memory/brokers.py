"""In-memory brokers and catalog cache (fakes held to the Mongo stores' contract)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

from services.catalog.domain import errors
from services.catalog.domain.models import Broker, Catalog
from services.catalog.storage.memory.common import Locked


class MemoryBrokerStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[Broker] = []

    def _index(self, name: str) -> int:
        return next((n for n, b in enumerate(self.items) if b.name == name), -1)

    def add(self, broker: Broker) -> None:
        with self.lock:
            if self._index(broker.name) >= 0:
                raise errors.BrokerExists()
            self.items.append(copy.deepcopy(broker))

    def get(self, name: str) -> Broker | None:
        n = self._index(name)
        return copy.deepcopy(self.items[n]) if n >= 0 else None

    def all(self) -> list[Broker]:
        return copy.deepcopy(self.items)

    def replace(self, name: str, broker: Broker) -> bool:
        with self.lock:
            n = self._index(name)
            if n < 0:
                return False
            other = self._index(broker.name)
            if other >= 0 and other != n:
                raise errors.BrokerExists()
            self.items[n] = copy.deepcopy(broker)
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            n = self._index(name)
            if n >= 0:
                del self.items[n]
            return n >= 0


class MemoryCatalogCache(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, tuple[Catalog, datetime]] = {}

    def load(self, broker: str, now: datetime) -> Catalog | None:
        hit = self.items.get(broker)
        return hit[0] if hit is not None and hit[1] > now else None

    def save(self, broker: str, catalog: Catalog, expires: datetime) -> None:
        with self.lock:
            self.items[broker] = (replace(catalog), expires)
