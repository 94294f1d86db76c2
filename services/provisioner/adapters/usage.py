"""CPU usage of units for autoscale, per backend."""

from __future__ import annotations

from collections.abc import Sequence

from services.provisioner.backends.process.usage import cpu_seconds


class ProcessUsage:
    """Units of the process backend rooted at ``root``."""

    def __init__(self, root: str) -> None:
        self.root = root

    def cpu_seconds(self, units: Sequence[str]) -> dict[str, float]:
        return cpu_seconds(self.root, units)
