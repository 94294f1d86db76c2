"""In-memory pools store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy
from dataclasses import replace

from services.provisioner.domain import errors
from services.provisioner.domain.models import Pool
from services.provisioner.storage.memory.common import Locked, MemoryFlag


class MemoryPoolStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Pool] = {}
        self.flag = MemoryFlag()

    def _out(self, pool: Pool) -> Pool:
        return replace(copy.deepcopy(pool), default=pool.name == self.flag.name)

    def add(self, pool: Pool) -> None:
        with self.lock:
            if pool.name in self.items:
                raise errors.PoolExists()
            self.items[pool.name] = replace(copy.deepcopy(pool), default=False)

    def get(self, name: str) -> Pool | None:
        pool = self.items.get(name)
        return None if pool is None else self._out(pool)

    def all(self) -> list[Pool]:
        return [self._out(p) for p in list(self.items.values())]

    def default_name(self) -> str | None:
        name = self.flag.name
        return name if name in self.items else None

    def claim_default(self, name: str, *, force: bool) -> str | None:
        with self.lock:
            holder = self.flag.name
            if holder == name:
                return None
            if holder is not None and holder in self.items and not force:
                raise errors.DefaultPoolExists()
            self.flag.name = name
            return holder if force else None

    def release_default(self, name: str) -> bool:
        with self.lock:
            if self.flag.name != name:
                return False
            self.flag.name = None
            return True

    def set_labels(self, name: str, labels: dict[str, str]) -> bool:
        with self.lock:
            pool = self.items.get(name)
            if pool is None:
                return False
            pool.labels = dict(labels)
            return True

    def set_provisioner(self, name: str, provisioner: str) -> bool:
        with self.lock:
            pool = self.items.get(name)
            if pool is None:
                return False
            pool.provisioner = provisioner
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            self.release_default(name)
            return self.items.pop(name, None) is not None
