"""CPU usage of units for autoscale, per backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.provisioner.backends.process.usage import cpu_seconds


class ProcessUsage:
    """Units of the process backend rooted at ``root``."""

    def __init__(self, root: str) -> None:
        self.root = root

    def cpu_seconds(self, units: Sequence[str]) -> dict[str, float]:
        return cpu_seconds(self.root, units)


class Reader(Protocol):
    def cpu_seconds(self, units: Sequence[str]) -> dict[str, float]: ...


class Usages:
    """Every backend's units: each reader answers for the units it runs (the process
    backend from /proc, the docker backend from its engines' stats)."""

    def __init__(self, readers: Sequence[Reader]) -> None:
        self.readers = list(readers)

    def cpu_seconds(self, units: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        left = list(units)
        for reader in self.readers:
            if not left:
                break
            found.update(reader.cpu_seconds(left))
            left = [u for u in left if u not in found]
        return found
