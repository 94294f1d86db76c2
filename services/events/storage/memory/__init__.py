"""In-memory stores of the events context: fakes held to the Mongo stores' contract.

The event log and blocks live in a ``MemoryEventStorage`` shared with the
``FakeRecorder`` of the same test, as the database is shared in production.
"""

from __future__ import annotations

from services.events.storage.memory.deliveries import MemoryDeliveryStore
from services.events.storage.memory.events import MemoryBlockStore, MemoryEventStore
from services.events.storage.memory.webhooks import MemoryWebhookStore
from services.events.storage.ports import Stores
from shared.testing.events import MemoryEventStorage

__all__ = [
    "MemoryBlockStore", "MemoryDeliveryStore", "MemoryEventStore", "MemoryWebhookStore",
    "memory_stores",
]  # fmt: skip


def memory_stores(storage: MemoryEventStorage | None = None) -> Stores:
    storage = storage or MemoryEventStorage()
    return Stores(
        events=MemoryEventStore(storage),
        blocks=MemoryBlockStore(storage),
        webhooks=MemoryWebhookStore(),
        deliveries=MemoryDeliveryStore(),
    )
