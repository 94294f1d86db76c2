"""In-memory deliveries (the fake of ``mongo/deliveries.py``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from services.events.domain.deliveries import Delivery


class MemoryDeliveryStore:
    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}
        self.marks: dict[str, datetime] = {}

    def mark_dispatched(self, event_id: str, ended: datetime) -> None:
        self.marks[event_id] = ended

    def dispatched(self, event_ids: Collection[str]) -> set[str]:
        return set(self.marks).intersection(event_ids)

    def dispatched_between(self, since: datetime, until: datetime) -> set[str]:
        return {i for i, ended in self.marks.items() if since <= ended <= until}

    def forget_dispatched_before(self, when: datetime) -> None:
        self.marks = {i: ended for i, ended in self.marks.items() if ended >= when}

    def get(self, event_id: str, webhook: str) -> Delivery | None:
        return self.items.get(f"{event_id}:{webhook}")

    def add(self, delivery: Delivery) -> bool:
        if delivery.key in self.items:
            return False
        self.items[delivery.key] = delivery
        return True

    def save(self, delivery: Delivery) -> None:
        self.items[delivery.key] = delivery

    def for_event(self, event_id: str) -> list[Delivery]:
        return sorted(
            (d for d in self.items.values() if d.event_id == event_id), key=lambda d: d.webhook
        )
