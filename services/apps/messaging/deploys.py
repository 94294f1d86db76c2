"""``provisioner.deploy.finished``: record a deploy's outcome even when the web
process relaying it died mid-stream (idempotent: the final reply may have recorded
it already), and drop its uploaded archive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.apps.operations.deploy_outcome import Outcome, record_outcome
from services.apps.operations.deps import Deps


def on_deploy_finished(deps: Deps) -> Callable[[str, dict[str, Any]], None]:
    def handle(_key: str, body: dict[str, Any]) -> None:
        outcome = Outcome.from_message(body)
        record_outcome(deps, outcome)
        if outcome.event:
            deps.archives.remove(outcome.event)

    return handle
