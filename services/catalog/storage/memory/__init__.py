"""In-memory stores of the catalog context: fakes held to the same contract suite as
the Mongo stores (tests/contract.py)."""

from __future__ import annotations

from services.catalog.storage.memory.brokers import MemoryBrokerStore, MemoryCatalogCache
from services.catalog.storage.memory.instances import MemoryInstanceStore
from services.catalog.storage.memory.services import MemoryServiceStore
from services.catalog.storage.ports import Stores


def memory_stores() -> Stores:
    return Stores(
        services=MemoryServiceStore(),
        instances=MemoryInstanceStore(),
        brokers=MemoryBrokerStore(),
        catalogs=MemoryCatalogCache(),
    )
