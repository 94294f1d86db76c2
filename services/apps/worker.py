"""Bus consumer process of the apps context: ``python -m services.apps.worker``."""

from __future__ import annotations

import threading

from services.apps import settings as config
from services.apps.bootstrap import connect
from services.apps.messaging.consumers import consumers
from services.apps.settings import AppsSettings
from shared.logs import configure as configure_logging
from shared.worker import run_worker


def main(settings: AppsSettings | None = None, stop: threading.Event | None = None) -> int:
    settings = settings or config.from_env()
    wired = connect(settings)
    wired.startup()
    # Archives of deploys whose processes died before removing them.
    wired.deps.archives.sweep()
    try:
        return run_worker("apps", consumers(wired.deps), settings.base, stop=stop)
    finally:
        wired.shutdown()


if __name__ == "__main__":
    configure_logging("apps-worker")
    raise SystemExit(main())
