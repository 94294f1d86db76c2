"""In-memory stores of the apps context: fakes held to the same contract suite as the
Mongo stores (tests/contract.py)."""

from __future__ import annotations

from services.apps.storage.memory import apps, certificates, deploys, logs
from services.apps.storage.ports import Stores


def memory_stores(*, log_max_lines: int = 10_000) -> Stores:
    return Stores(
        apps=apps.MemoryAppStore(),
        cnames=apps.MemoryCnameStore(),
        versions=deploys.MemoryVersionStore(),
        deploys=deploys.MemoryDeployStore(),
        logs=logs.MemoryLogStore(log_max_lines),
        certificates=certificates.MemoryCertificateStore(),
    )
