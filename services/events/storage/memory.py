"""In-memory stores (fakes for unit tests); same contract as storage/mongo.py."""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from services.events.domain.deliveries import Delivery
from services.events.domain.errors import WebhookExists
from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.webhooks import Webhook
from services.events.storage.ports import EventDoc
from shared.events import Block

_MIN = datetime.min.replace(tzinfo=UTC)


def _path(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, datetime):
        return (4, value if value.tzinfo else value.replace(tzinfo=UTC))
    return (3, str(value))


class MemoryEventStore:
    def __init__(self) -> None:
        self.docs: dict[ObjectId, EventDoc] = {}
        self._lock = threading.Lock()

    def insert(self, doc: EventDoc) -> None:
        with self._lock:
            self.docs[doc["_id"]] = copy.deepcopy(doc)

    def find(self, flt: EventFilter, visibility: Visibility) -> list[EventDoc]:
        with self._lock:
            hits = [
                copy.deepcopy(d)
                for d in self.docs.values()
                if flt.matches(d) and (visibility.everything or visibility.allows(d.get("allowed")))
            ]
        field, direction = flt.sort_key
        hits.sort(key=lambda d: (_sortable(_path(d, field)), d["_id"]), reverse=direction < 0)
        return hits[flt.skip : flt.skip + flt.limit]

    def get(self, event_id: ObjectId) -> EventDoc | None:
        with self._lock:
            doc = self.docs.get(event_id)
            return copy.deepcopy(doc) if doc else None

    def finished_between(self, since: datetime, until: datetime) -> list[str]:
        with self._lock:
            return sorted(
                str(d["_id"])
                for d in self.docs.values()
                if not d.get("running")
                and d.get("endtime") is not None
                and since <= _aware(d["endtime"]) <= until
            )

    def kinds(self) -> list[dict[str, str]]:
        with self._lock:
            seen = {
                (d["kind"]["type"], d["kind"]["name"]) for d in self.docs.values() if d.get("kind")
            }
        return [{"type": t, "name": n} for t, n in sorted(seen)]

    def request_cancel(
        self, event_id: ObjectId, *, owner: str, reason: str, when: datetime
    ) -> bool:
        with self._lock:
            doc = self.docs.get(event_id)
            if (
                doc is None
                or not doc.get("running")
                or not doc.get("cancelable")
                or doc["cancelinfo"].get("asked")
            ):
                return False
            doc["cancelinfo"].update(owner=owner, reason=reason, starttime=when, asked=True)
            return True


class MemoryBlockStore:
    def __init__(self) -> None:
        self.blocks: dict[ObjectId, Block] = {}

    def list(self, active: bool | None) -> list[Block]:
        found = [b for b in self.blocks.values() if active is None or b.active == active]
        return sorted(found, key=lambda b: b.start_time, reverse=True)

    def add(self, block: Block) -> None:
        self.blocks[block.id] = block

    def deactivate(self, block_id: ObjectId, when: datetime) -> bool:
        block = self.blocks.get(block_id)
        if block is None or not block.active:
            return False
        self.blocks[block_id] = replace(block, active=False, end_time=when)
        return True


class MemoryWebhookStore:
    def __init__(self) -> None:
        self.hooks: dict[str, Webhook] = {}

    def create(self, hook: Webhook) -> None:
        if hook.name in self.hooks:
            raise WebhookExists()
        self.hooks[hook.name] = hook

    def get(self, name: str) -> Webhook | None:
        return self.hooks.get(name)

    def list(self, teams: Collection[str] | None = None) -> list[Webhook]:
        return sorted(
            (h for h in self.hooks.values() if teams is None or h.team_owner in teams),
            key=lambda h: h.name,
        )

    def replace(self, hook: Webhook) -> bool:
        if hook.name not in self.hooks:
            return False
        self.hooks[hook.name] = hook
        return True

    def delete(self, name: str) -> bool:
        return self.hooks.pop(name, None) is not None


class MemoryDeliveryStore:
    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}
        self.dispatched_ids: set[str] = set()

    def mark_dispatched(self, event_id: str) -> None:
        self.dispatched_ids.add(event_id)

    def dispatched(self, event_ids: Collection[str]) -> set[str]:
        return self.dispatched_ids.intersection(event_ids)

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
