"""The bus consumers of the apps worker, each calling one operation (idempotent)."""

from __future__ import annotations

from services.apps.operations.deps import Deps
from shared.worker import Consumer


def consumers(deps: Deps) -> list[Consumer]:
    return []
