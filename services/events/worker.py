"""Bus consumer process of the events context: ``python -m services.events.worker``.

Consumes ``events.event.finished`` (webhook fan-out) and ``events.webhook.delivery``
(one attempt per message, retries through delay queues), and runs the stale-event
cleaner and the webhook sweep every ``TSUBAME_EVENTS_CLEANER_INTERVAL`` seconds, each
on its own thread (messaging/cleaner.py).
"""

from __future__ import annotations

import threading

from services.events.bootstrap import connect
from services.events.messaging.cleaner import start_jobs
from services.events.messaging.consumers import consumers
from services.events.settings import EventsSettings
from shared.logs import configure as configure_logging
from shared.worker import run_worker


def main(settings: EventsSettings | None = None, stop: threading.Event | None = None) -> int:
    settings = settings or EventsSettings.from_env()
    stop = stop if stop is not None else threading.Event()
    wired = connect(settings)
    wired.startup()
    deps = wired.deps
    jobs = start_jobs(deps, interval=settings.cleaner_interval, stop=stop)
    try:
        return run_worker("events", consumers(deps), settings.base, stop=stop)
    finally:
        stop.set()
        for job in jobs:
            job.join(timeout=5)
        wired.shutdown()


if __name__ == "__main__":
    configure_logging("events-worker")
    raise SystemExit(main())
