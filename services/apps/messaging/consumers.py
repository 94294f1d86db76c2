"""The bus consumers of the apps worker, each calling one operation."""

from __future__ import annotations

from typing import Any

from services.apps.messaging.deploys import on_deploy_finished
from services.apps.operations import applog
from services.apps.operations.deps import Deps
from shared.bus import keys
from shared.worker import Consumer

UNIT_LOGS_QUEUE = "apps.unit-logs"


def consumers(deps: Deps) -> list[Consumer]:
    def on_unit_logs(_key: str, body: dict[str, Any]) -> None:
        app = body.get("app")
        lines = body.get("lines")
        if isinstance(app, str) and app and isinstance(lines, list):
            applog.from_provisioner(deps, app, lines)

    return [
        Consumer("apps.deploy-finished", [keys.DEPLOY_FINISHED], on_deploy_finished(deps)),
        Consumer(UNIT_LOGS_QUEUE, [keys.UNIT_LOGS], on_unit_logs, prefetch=50),
    ]
