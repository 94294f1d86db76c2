"""In-memory nodes store."""

from __future__ import annotations

import copy
from datetime import datetime

from services.provisioner.domain import errors
from services.provisioner.domain.models import HealthBatch, Node
from services.provisioner.storage.memory.common import Locked


class MemoryNodeStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Node] = {}

    def add(self, node: Node) -> None:
        with self.lock:
            existing = self.items.get(node.address)
            if existing is not None:
                raise errors.NodeExists(node.address, existing.provisioner)
            stored = copy.deepcopy(node)
            stored.checks = []
            self.items[node.address] = stored

    def get(self, address: str) -> Node | None:
        with self.lock:
            return copy.deepcopy(self.items.get(address))

    def all(self) -> list[Node]:
        with self.lock:
            return [copy.deepcopy(n) for n in self.items.values()]

    def by_pool(self, pool: str) -> list[Node]:
        return [n for n in self.all() if n.pool == pool]

    def update(self, address: str, *, pool: str, metadata: dict[str, str], status: str) -> bool:
        with self.lock:
            node = self.items.get(address)
            if node is None:
                return False
            node.pool, node.metadata, node.status = pool, dict(metadata), status
            return True

    def report(self, node: Node, when: datetime) -> None:
        with self.lock:
            current = self.items.get(node.address)
            if current is None:
                current = Node(node.address, node.provisioner, iaas_id=node.iaas_id)
                self.items[node.address] = current
            current.provisioner, current.pool = node.provisioner, node.pool
            current.status, current.metadata = node.status, dict(node.metadata)
            current.last_update = when

    def set_status(self, address: str, status: str) -> bool:
        with self.lock:
            node = self.items.get(address)
            if node is None or node.status in ("disabled", status):
                return False
            node.status = status
            return True

    def record_health(self, address: str, batch: HealthBatch, *, keep: int = 10) -> bool:
        with self.lock:
            node = self.items.get(address)
            if node is None:
                return False
            node.checks = [*node.checks, batch][-keep:]
            node.last_update = batch.time
            if all(c.successful for c in batch.checks):
                node.last_success = batch.time
            return True

    def delete(self, address: str) -> bool:
        with self.lock:
            return self.items.pop(address, None) is not None
