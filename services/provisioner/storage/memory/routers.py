"""In-memory dynamic routers store."""

from __future__ import annotations

import copy

from services.provisioner.domain import errors
from services.provisioner.domain.models import DynamicRouter
from services.provisioner.storage.memory.common import Locked


class MemoryRouterStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, DynamicRouter] = {}

    def add(self, router: DynamicRouter) -> None:
        with self.lock:
            if router.name in self.items:
                raise errors.DynamicRouterExists()
            self.items[router.name] = copy.deepcopy(router)

    def get(self, name: str) -> DynamicRouter | None:
        return copy.deepcopy(self.items.get(name))

    def all(self) -> list[DynamicRouter]:
        return [copy.deepcopy(r) for r in sorted(self.items.values(), key=lambda r: r.name)]

    def replace(self, router: DynamicRouter) -> bool:
        with self.lock:
            if router.name not in self.items:
                return False
            self.items[router.name] = copy.deepcopy(router)
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.items.pop(name, None) is not None
