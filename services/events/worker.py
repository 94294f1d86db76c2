"""Bus consumer process of the events context: ``python -m services.events.worker``.

Consumes ``events.event.finished`` (webhook fan-out) and ``events.webhook.delivery``
(one attempt per message, retries through delay queues), and runs the stale-event
cleaner every ``TSUBAME_EVENTS_CLEANER_INTERVAL`` seconds.
"""

from __future__ import annotations

import threading

from services.events.messaging.cleaner import run_cleaner
from services.events.messaging.consumers import DeliveryDeps, consumers
from services.events.messaging.http_sender import HttpSender
from services.events.messaging.retry import RetryScheduler
from services.events.operations.delivery import sweep
from services.events.settings import EventsSettings
from services.events.storage import mongo
from shared.bus import Bus, keys
from shared.mongo import connect
from shared.worker import run_worker


def main(settings: EventsSettings | None = None, stop: threading.Event | None = None) -> int:
    settings = settings or EventsSettings.from_env()
    stop = stop if stop is not None else threading.Event()
    client = connect(settings.base.mongo_url)
    db = client[settings.db_name]
    mongo.ensure_indexes(db)
    bus = Bus(settings.base.amqp_url, settings.base.namespace)
    retry = RetryScheduler(settings.base.amqp_url, settings.base.namespace, settings.retry_delays)
    deps = DeliveryDeps(
        events=mongo.MongoEventStore(db),
        webhooks=mongo.MongoWebhookStore(db),
        deliveries=mongo.MongoDeliveryStore(db),
        publish=bus.publish,
        send=HttpSender(settings.webhook_timeout),
        schedule_retry=retry.schedule,
        max_attempts=retry.max_attempts,
    )
    cleaner = threading.Thread(
        target=run_cleaner,
        kwargs={
            "db": db,
            "lock_expiry": settings.lock_expiry,
            "interval": settings.cleaner_interval,
            "publish": bus.publish,
            "stop": stop,
            "sweep": lambda: sweep(
                events=deps.events,
                webhooks=deps.webhooks,
                deliveries=deps.deliveries,
                enqueue=lambda msg: bus.publish(keys.WEBHOOK_DELIVERY, msg),
                delay=settings.sweep_delay,
            ),
        },
        name="events:cleaner",
        daemon=True,
    )
    cleaner.start()
    try:
        return run_worker("events", consumers(deps), settings.base, stop=stop)
    finally:
        stop.set()
        cleaner.join(timeout=5)
        retry.close()
        bus.close()
        client.close()


if __name__ == "__main__":
    raise SystemExit(main())
