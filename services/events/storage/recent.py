"""The webhooks as read a moment ago: what each finished event's notice is matched to.

Every mutation's finished notice makes the worker list the webhooks (most often to find
none). ``RecentWebhooks`` answers the whole list from a read made at most ``seconds``
ago; a change made through it drops its copy at once, and the events service answers a
webhook's creation, update or removal only ``WEBHOOKS_CACHE_SECONDS`` after its write
(operations/webhooks.py), so an event that finishes after that answer is matched
against it in every process. Listings by team are read every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection

from services.events.domain.webhooks import Webhook
from services.events.storage.ports import WebhookStore

WEBHOOKS_CACHE_SECONDS = 0.25


class RecentWebhooks:
    def __init__(self, store: WebhookStore, seconds: float = WEBHOOKS_CACHE_SECONDS) -> None:
        self.store = store
        self.seconds = seconds
        self._copy: tuple[float, list[Webhook]] | None = None  # (read started, hooks)
        self._mutex = threading.Lock()

    def create(self, hook: Webhook) -> None:
        try:
            self.store.create(hook)
        finally:
            self._drop()

    def get(self, name: str) -> Webhook | None:
        return self.store.get(name)

    def list(self, teams: Collection[str] | None = None) -> list[Webhook]:
        if teams is not None:
            return self.store.list(teams)
        started = time.monotonic()
        with self._mutex:
            copy = self._copy
        if copy is not None and started - copy[0] < self.seconds:
            return list(copy[1])
        hooks = self.store.list()
        with self._mutex:
            if self._copy is None or self._copy[0] < started:
                self._copy = (started, hooks)
        return list(hooks)

    def replace(self, hook: Webhook) -> bool:
        try:
            return self.store.replace(hook)
        finally:
            self._drop()

    def delete(self, name: str) -> bool:
        try:
            return self.store.delete(name)
        finally:
            self._drop()

    def _drop(self) -> None:
        with self._mutex:
            self._copy = None
