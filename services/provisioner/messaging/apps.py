"""Reactions to the apps context's messages."""

from __future__ import annotations

import logging
from typing import Any

from services.provisioner.operations.runtime import appcmds
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease

log = logging.getLogger(__name__)


def on_app_removed(deps: RuntimeDeps, body: dict[str, Any]) -> None:
    """``apps.app.removed``: whatever of the app is left (its ``remove`` command was lost,
    or failed halfway) goes. Idempotent: an app already gone costs one read."""
    app = body.get("app")
    if not isinstance(app, str) or not app:
        return
    if deps.stores.runtimes.get(app) is None and not deps.stores.units.of_app(app):
        return
    log.info("app %s was removed: removing what is left of it", app)
    with AppLease(deps, app, wait=60):
        appcmds.remove_app(deps, app)
