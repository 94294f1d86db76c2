"""The docker nodes the docker backend places units on: the ones registered through the
API (``POST /node``), read from the catalogue's store (briefly cached: the backend asks
for them on every listing)."""

from __future__ import annotations

import threading
import time

from services.provisioner.backends.base import NodeInfo
from services.provisioner.storage.ports import NodeStore

DOCKER = "docker"


class CatalogueNodes:
    def __init__(self, store: NodeStore, ttl: float = 1.0) -> None:
        self._store = store
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[NodeInfo]] | None = None

    def __call__(self) -> list[NodeInfo]:
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and now - self._cached[0] < self._ttl:
                return self._cached[1]
        found = [
            NodeInfo(address=n.address, pool=n.pool, status=n.status, metadata=dict(n.metadata))
            for n in self._store.all()
            if n.provisioner == DOCKER
        ]
        with self._lock:
            self._cached = (now, found)
        return found

    def refresh(self) -> None:
        """Read the store again at the next call (a node registered a moment ago)."""
        with self._lock:
            self._cached = None
