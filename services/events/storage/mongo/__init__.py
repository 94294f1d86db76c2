"""MongoDB stores of the events context (database ``<namespace>_events``)."""

from __future__ import annotations

from services.events.storage.mongo import blocks, deliveries, events, webhooks
from services.events.storage.ports import Stores
from shared.mongo import Db, Index

INDEXES: list[Index] = [*webhooks.INDEXES, *deliveries.INDEXES]  # events, blocks: the kernel's


def mongo_stores(db: Db) -> Stores:
    return Stores(
        events=events.MongoEventStore(db),
        blocks=blocks.MongoBlockStore(db),
        webhooks=webhooks.MongoWebhookStore(db),
        deliveries=deliveries.MongoDeliveryStore(db),
    )
