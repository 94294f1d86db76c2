"""In-memory webhooks (the fake of ``mongo/webhooks.py``)."""

from __future__ import annotations

from collections.abc import Collection

from services.events.domain.errors import WebhookExists
from services.events.domain.webhooks import Webhook


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
