"""Bus consumer process of the catalog context: ``python -m services.catalog.worker``.

Consumes ``apps.app.removed`` (unbind the app everywhere) and
``provisioner.units.changed`` (bind-unit / unbind-unit), runs the bind syncer every
``TSUBAME_CATALOG_SYNC_INTERVAL`` seconds and, every few seconds, the recovery of
binds and unbinds a dead process left halfway.
"""

from __future__ import annotations

import threading

from services.catalog.bootstrap import connect
from services.catalog.messaging.consumers import consumers
from services.catalog.messaging.syncer import run_recovery, run_syncer
from services.catalog.settings import CatalogSettings, from_env
from shared.logs import configure as configure_logging
from shared.worker import run_worker


def main(settings: CatalogSettings | None = None, stop: threading.Event | None = None) -> int:
    settings = settings or from_env()
    stop = stop if stop is not None else threading.Event()
    wired = connect(settings)
    wired.startup()
    syncer = threading.Thread(
        target=run_syncer,
        kwargs={"deps": wired.deps, "interval": settings.sync_interval, "stop": stop},
        name="catalog:syncer",
        daemon=True,
    )
    recovery = threading.Thread(
        target=run_recovery, kwargs={"deps": wired.deps, "stop": stop}, name="catalog:recovery",
        daemon=True,
    )  # fmt: skip
    syncer.start()
    recovery.start()
    try:
        return run_worker("catalog", consumers(wired.deps), settings.base, stop=stop)
    finally:
        stop.set()
        syncer.join(timeout=5)
        recovery.join(timeout=5)
        wired.shutdown()


if __name__ == "__main__":
    configure_logging("catalog-worker")
    raise SystemExit(main())
