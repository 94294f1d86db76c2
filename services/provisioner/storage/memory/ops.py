"""In-memory stores of node healing, the node autoscaler, node containers and docker
log configs."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from services.provisioner.domain.infra import (
    HEALING_FIELDS,
    AutoscaleEvent,
    AutoscaleRule,
    HealingConfig,
    HealingEvent,
    LogConfig,
)
from services.provisioner.storage.memory.common import Locked

_ATTR = dict(zip(HEALING_FIELDS, ("enabled", "max_time_since_success",
                                  "max_unresponsive_time"), strict=True))  # fmt: skip


class MemoryHealingStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, HealingConfig] = {}
        self.history: list[HealingEvent] = []

    def configs(self) -> dict[str, HealingConfig]:
        with self.lock:
            return dict(sorted(self.entries.items()))

    def merge(self, pool: str, changes: dict[str, object]) -> None:
        with self.lock:
            current = self.entries.get(pool, HealingConfig())
            given = {_ATTR[k]: v for k, v in changes.items() if k in _ATTR}
            self.entries[pool] = replace(current, **given)  # type: ignore[arg-type]

    def unset(self, pool: str, fields: list[str]) -> None:
        with self.lock:
            if pool in self.entries:
                cleared = {_ATTR[f]: None for f in fields if f in _ATTR}
                self.entries[pool] = replace(self.entries[pool], **cleared)  # type: ignore[arg-type]

    def delete(self, pool: str) -> bool:
        with self.lock:
            return self.entries.pop(pool, None) is not None

    def add_event(self, event: HealingEvent) -> None:
        with self.lock:
            self.history.append(event)

    def events(self, action: str = "", limit: int = 100) -> list[HealingEvent]:
        with self.lock:
            found = [e for e in self.history if not action or e.action == action]
        # Ties broken by id, as the database's windows do.
        return sorted(found, key=lambda e: (e.start, e.id), reverse=True)[:limit]


class MemoryNodeAutoscaleStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, AutoscaleRule] = {}
        self.history: list[AutoscaleEvent] = []

    def rules(self) -> list[AutoscaleRule]:
        with self.lock:
            return [self.items[k] for k in sorted(self.items)]

    def put_rule(self, rule: AutoscaleRule) -> None:
        with self.lock:
            self.items[rule.metadata_filter] = rule

    def delete_rule(self, metadata_filter: str) -> bool:
        with self.lock:
            return self.items.pop(metadata_filter, None) is not None

    def add_event(self, event: AutoscaleEvent) -> None:
        with self.lock:
            self.history.append(event)

    def events(self, skip: int = 0, limit: int = 100) -> list[AutoscaleEvent]:
        with self.lock:
            ordered = sorted(self.history, key=lambda e: (e.start, e.id), reverse=True)
        return ordered[skip : skip + limit]


class MemoryNodeContainerStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, dict[str, Any]]] = {}

    def all(self) -> dict[str, dict[str, dict[str, Any]]]:
        with self.lock:
            return copy.deepcopy({n: c for n, c in self.items.items() if c})

    def get(self, name: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.items.get(name, {}))

    def put(self, name: str, pool: str, config: dict[str, Any]) -> None:
        with self.lock:
            self.items.setdefault(name, {})[pool] = copy.deepcopy(config)

    def delete(self, name: str, pool: str) -> bool:
        with self.lock:
            return self.items.get(name, {}).pop(pool, None) is not None


class MemoryLogConfigStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, LogConfig] = {}

    def all(self) -> dict[str, LogConfig]:
        with self.lock:
            return dict(sorted(self.items.items()))

    def put(self, pool: str, config: LogConfig) -> None:
        with self.lock:
            self.items[pool] = config
