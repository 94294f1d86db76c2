"""The bus consumers of the apps worker, each calling one operation (idempotent)."""

from __future__ import annotations

from services.apps.messaging.deploys import on_deploy_finished
from services.apps.operations.deps import Deps
from shared.bus import keys
from shared.worker import Consumer


def consumers(deps: Deps) -> list[Consumer]:
    return [
        Consumer("apps.deploy-finished", [keys.DEPLOY_FINISHED], on_deploy_finished(deps)),
    ]
