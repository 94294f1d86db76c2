"""Bus consumer process of the provisioner context: ``python -m services.provisioner.worker``.

Serves the commands apps sends (docs/runtime.md; ``TSUBAME_PROVISIONER_COMMAND_LOOPS``
at once), reacts to ``apps.app.removed``, and runs the reconciler (a tick every
``TSUBAME_RECONCILE_INTERVAL`` s: the apps whose units changed brought to their desired
state; every app at start and every ``TSUBAME_RECONCILE_FULL_INTERVAL`` s), the unit
autoscaler and, with docker nodes, the node healer. Several workers may run: commands
are shared between them and every app is worked on by one at a time (its lease).
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from services.provisioner import settings as config
from services.provisioner.bootstrap import connect, runtime_deps
from services.provisioner.messaging.apps import on_app_removed
from services.provisioner.operations.runtime.autoscaler import run_autoscaler
from services.provisioner.operations.runtime.commands import handle
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.healer import run_healer
from services.provisioner.operations.runtime.reconcile import run_reconciler
from shared.bus import keys
from shared.logs import configure as configure_logging
from shared.settings import Settings
from shared.worker import Consumer, run_worker


def consumers(deps: RuntimeDeps) -> list[Consumer]:
    def removed(_key: str, body: dict[str, Any]) -> None:
        on_app_removed(deps, body)

    return [Consumer("provisioner.app-removed", [keys.APP_REMOVED], removed)]


def main(settings: Settings | None = None, stop: threading.Event | None = None) -> int:
    settings = settings or config.from_env()
    stop = stop if stop is not None else threading.Event()
    wired = connect(settings)
    wired.startup()
    deps, close = runtime_deps(settings, wired.deps)
    loops = [
        threading.Thread(target=run_reconciler, args=(deps, stop), name="reconciler", daemon=True),
        threading.Thread(target=run_autoscaler, args=(deps, stop), name="autoscaler", daemon=True),
        threading.Thread(target=run_healer, args=(deps, stop), name="healer", daemon=True),
    ]
    for loop in loops:
        loop.start()
    try:
        return run_worker(
            "provisioner",
            consumers(deps),
            settings,
            commands=partial(handle, deps),
            command_loops=config.command_loops(settings),
            stop=stop,
        )
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=10)
        close()
        wired.shutdown()


if __name__ == "__main__":
    configure_logging("provisioner-worker")
    raise SystemExit(main())
