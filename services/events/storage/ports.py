"""Storage ports of the events context, one per aggregate. ``mongo/`` and ``memory/``
implement them and pass the same contract suite
(tests/integration/test_storage_contract.py).

The event log and the blocks are the shared kernel's collections (every service
writes them through ``shared.events``); this context reads them for its API and
keeps webhooks and deliveries of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bson import ObjectId

from services.events.domain.deliveries import Delivery
from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.webhooks import EventHead, Webhook
from shared.events import Block, EventRecord, Kind


class EventStore(Protocol):
    def find(self, flt: EventFilter, visibility: Visibility) -> list[EventRecord]: ...

    def get(self, event_id: ObjectId) -> EventRecord | None: ...

    def kinds(self) -> list[Kind]:
        """Every stored kind once, by type then name."""
        ...

    def finished_between(
        self, since: datetime, until: datetime, *, page_size: int
    ) -> Iterator[list[EventHead]]:
        """Finished events whose EndTime is in [since, until], as what webhook matching
        reads of them, in pages of at most ``page_size`` (the whole window is read
        once, however many pages)."""
        ...

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        """Mark a running cancelable event as asked, once; False if it was not eligible."""
        ...


class BlockStore(Protocol):
    def list(self, active: bool | None) -> list[Block]:
        """Newest ``StartTime`` first; ``active=None`` lists all."""
        ...

    def add(self, block: Block) -> None: ...

    def deactivate(self, block_id: ObjectId, when: datetime) -> bool:
        """End an *active* block; False when there is none with that id."""
        ...


class WebhookStore(Protocol):
    def create(self, hook: Webhook) -> None:
        """Raises WebhookExists for a taken name."""
        ...

    def get(self, name: str) -> Webhook | None: ...

    def list(self, teams: Collection[str] | None = None) -> list[Webhook]:
        """All webhooks (``teams=None``) or those owned by one of ``teams``, by name."""
        ...

    def replace(self, hook: Webhook) -> bool: ...

    def delete(self, name: str) -> bool: ...


class DeliveryStore(Protocol):
    def get(self, event_id: str, webhook: str) -> Delivery | None: ...

    def add(self, delivery: Delivery) -> bool:
        """Insert unless one exists for the pair; False when it existed."""
        ...

    def save(self, delivery: Delivery) -> None: ...

    def for_event(self, event_id: str) -> list[Delivery]: ...

    def mark_dispatched(self, event_id: str, ended: datetime) -> None:
        """Remember that an event's deliveries were queued (the sweep skips it);
        ``ended``: the event's EndTime, by which marks are found and pruned."""
        ...

    def dispatched(self, event_ids: Collection[str]) -> set[str]: ...

    def dispatched_between(self, since: datetime, until: datetime) -> set[str]:
        """Ids of dispatched events whose EndTime is in [since, until] (one range read)."""
        ...

    def forget_dispatched_before(self, when: datetime) -> None:
        """Drop the marks of events that ended before ``when`` (out of every window)."""
        ...


@dataclass(frozen=True)
class Stores:
    events: EventStore
    blocks: BlockStore
    webhooks: WebhookStore
    deliveries: DeliveryStore
