"""In-memory platforms store."""

from __future__ import annotations

import copy

from services.provisioner.domain import errors
from services.provisioner.domain.models import Platform, PlatformVersion
from services.provisioner.storage.memory.common import Locked


class MemoryPlatformStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Platform] = {}
        self.counters: dict[str, int] = {}

    def add(self, platform: Platform) -> None:
        with self.lock:
            if platform.name in self.items:
                raise errors.PlatformExists()
            self.items[platform.name] = Platform(platform.name, platform.disabled, [])
            self.counters[platform.name] = 0

    def get(self, name: str) -> Platform | None:
        with self.lock:
            return copy.deepcopy(self.items.get(name))

    def all(self) -> list[Platform]:
        with self.lock:
            return [copy.deepcopy(p) for p in self.items.values()]

    def set_disabled(self, name: str, disabled: bool) -> bool:
        with self.lock:
            platform = self.items.get(name)
            if platform is None:
                return False
            platform.disabled = disabled
            return True

    def next_version(self, name: str) -> int:
        with self.lock:
            if name not in self.items:
                return 0
            self.counters[name] += 1
            return self.counters[name]

    def add_version(self, name: str, version: PlatformVersion) -> bool:
        with self.lock:
            platform = self.items.get(name)
            if platform is None or platform.version(version.version) is not None:
                return False
            platform.versions.append(version)
            return True

    def drop_version(self, name: str, version: int) -> bool:
        with self.lock:
            platform = self.items.get(name)
            if platform is None or platform.version(version) is None:
                return False
            platform.versions = [v for v in platform.versions if v.version != version]
            return True

    def delete(self, name: str) -> bool:
        with self.lock:
            self.counters.pop(name, None)
            return self.items.pop(name, None) is not None
