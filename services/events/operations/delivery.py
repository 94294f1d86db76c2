"""Webhook delivery: fan a finished event out to matching webhooks, then deliver
each (event, webhook) pair with bounded retries (§3.3-§3.4, made durable).

The worker wires these to the bus: ``fan_out`` handles ``events.event.finished``
and publishes one ``events.webhook.delivery`` message per matching webhook;
``deliver`` handles those messages and schedules a delayed retry on failure.
Both are idempotent: a message may arrive twice (redelivery after a crash).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from services.events.domain.deliveries import (
    DELIVERED,
    FAILED,
    FINAL,
    PENDING,
    RETRYING,
    SKIPPED,
    Delivery,
)
from services.events.domain.outgoing import build_request
from services.events.domain.render import event_json
from services.events.domain.webhooks import EventHead, Webhook, matches, team_may_read
from services.events.operations.deps import Deps
from services.events.storage.ports import DeliveryStore
from shared.bus import keys
from shared.events import EventRecord
from shared.events.model import now
from shared.golang.template import TemplateExecError

log = logging.getLogger(__name__)


def _event(deps: Deps, event_id: str) -> EventRecord | None:
    try:
        oid = ObjectId(event_id)
    except (InvalidId, TypeError):
        return None
    return deps.stores.events.get(oid)


def fan_out(deps: Deps, event_id: str, hooks: list[Webhook] | None = None) -> int:
    """Queue one delivery per matching webhook; returns how many were queued.

    ``hooks``: the webhooks, when the caller has listed them already (the sweep).
    With no webhook at all nothing is read or marked (most mutations: three database
    round trips fewer); a webhook created later does not take the event from the
    sweep, which leaves events that ended before a webhook existed aside.
    """
    if hooks is None:
        hooks = deps.stores.webhooks.list()
        if not hooks:
            return 0
    record = _event(deps, event_id)
    if record is None:
        log.warning("finished event %s not found; nothing to deliver", event_id)
        return 0
    if record.running:
        return 0  # not finished: a stray message
    event = event_json(record)
    deliveries = deps.stores.deliveries
    queued = 0
    for hook in hooks:
        if not (matches(hook, event) and team_may_read(hook, event)):
            continue
        if deliveries.get(event_id, hook.name) is not None:
            continue  # queued by an earlier copy of this message
        message = {"event": event_id, "webhook": hook.name, "attempt": 1}
        deps.publisher.publish(keys.WEBHOOK_DELIVERY, message)
        # Recorded after the enqueue: a crash in between re-queues on redelivery,
        # and deliver() drops a second copy once the first is final.
        deliveries.add(Delivery(event_id, hook.name, PENDING, updated=now()))
        queued += 1
    deliveries.mark_dispatched(event_id, record.end_time)
    return queued


# The sweep looks at events finished between SWEEP_FROM and ``config.sweep_delay``
# seconds ago: younger ones are still in the normal path (their notice is on its
# way), older ones are history.
SWEEP_FROM = 600.0


# Events looked at per page of the window.
SWEEP_PAGE = 1000


def sweep(deps: Deps, *, page_size: int = SWEEP_PAGE) -> int:
    """Fan out recently finished events whose notice never arrived (lost publish,
    broker down when the event finished, worker not yet consuming). Returns how many.

    Cost, whatever the number of events in the window: one read of the window's
    events (in pages) and one of its dispatch marks; only the events some webhook
    wants cost a fan-out (which marks them). The others are matched again by the
    next sweep, in memory, rather than written. Marks older than every window are
    dropped on the way, so they do not pile up.
    """
    stores = deps.stores
    hooks = stores.webhooks.list()
    if not hooks:
        return 0
    current = now()
    since = current - timedelta(seconds=SWEEP_FROM)
    until = current - timedelta(seconds=deps.config.sweep_delay)
    done = stores.deliveries.dispatched_between(since, until)
    fanned = 0
    for page in stores.events.finished_between(since, until, page_size=page_size):
        for head in page:
            event_id = head.id
            if event_id in done:
                continue
            event = head.view()
            mine = [h for h in hooks if _existed(h, head)]
            if not any(matches(h, event) and team_may_read(h, event) for h in mine):
                continue
            log.info("event %s finished without a dispatched notice: fanning out", event_id)
            fan_out(deps, event_id, mine)
            fanned += 1
    stores.deliveries.forget_dispatched_before(since - timedelta(seconds=SWEEP_FROM))
    return fanned


def _existed(hook: Webhook, head: EventHead) -> bool:
    """Whether ``hook`` existed when the event ended (its to deliver)."""
    return hook.created is None or head.end_time is None or hook.created <= head.end_time


def _retryable(status: int) -> bool:
    return status == 0 or status >= 500 or status in (408, 429)


def deliver(deps: Deps, message: dict[str, Any]) -> Delivery:
    event_id = str(message.get("event", ""))
    name = str(message.get("webhook", ""))
    attempt = int(message.get("attempt", 1))
    deliveries = deps.stores.deliveries
    current = deliveries.get(event_id, name) or Delivery(event_id, name)
    if current.status in FINAL:
        return current
    hook = deps.stores.webhooks.get(name)
    record = _event(deps, event_id)
    if hook is None or record is None:
        gone = "webhook removed" if hook is None else "event not found"
        return _save(deliveries, current, FAILED, attempt, 0, gone)
    try:
        request = build_request(hook, event_json(record))
    except TemplateExecError as exc:
        log.warning("webhook %s: template failed for event %s: %s", name, event_id, exc)
        return _save(deliveries, current, SKIPPED, attempt, 0, str(exc))
    log.info("webhook %s: event %s attempt %d -> %s", name, event_id, attempt, request.url)
    answer = deps.sender(request)
    log.info("webhook %s: event %s attempt %d answered %s", name, event_id, attempt, answer.status)
    if 200 <= answer.status < 400:
        return _save(deliveries, current, DELIVERED, attempt, answer.status, "")
    detail = (
        f"invalid status code calling hook: {answer.status}: {answer.detail}"
        if answer.status
        else answer.detail
    )
    if _retryable(answer.status) and attempt < deps.retries.max_attempts:
        saved = _save(deliveries, current, RETRYING, attempt, answer.status, detail)
        deps.retries.schedule({**message, "attempt": attempt + 1}, attempt)
        return saved
    log.warning("webhook %s: giving up on event %s: %s", name, event_id, detail)
    return _save(deliveries, current, FAILED, attempt, answer.status, detail)


def _save(
    deliveries: DeliveryStore, current: Delivery, status: str, attempt: int, code: int, error: str
) -> Delivery:
    updated = replace(
        current,
        status=status,
        attempts=max(current.attempts, attempt),
        last_status=code,
        last_error=error,
        updated=now(),
    )
    deliveries.save(updated)
    return updated
