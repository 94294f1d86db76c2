"""Reading the event log and asking a running event to cancel (§2.3-§2.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.events.domain.errors import (
    CancelAlreadyRequested,
    EventNotFound,
    NotCancelable,
    ReasonMandatory,
)
from services.events.domain.filters import EventFilter, Visibility
from services.events.domain.render import event_json, kind_json
from services.events.operations.common import parse_uuid
from services.events.storage.ports import EventStore
from shared.events.model import now
from shared.identity import Identity
from shared.permissions import ensure


def _contexts(allowed: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [
        (c.get("ctxtype", ""), c.get("value", "")) for c in (allowed or {}).get("contexts") or []
    ]


def list_events(
    store: EventStore, identity: Identity, args: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    flt = EventFilter.parse(args)
    return [event_json(d) for d in store.find(flt, Visibility.of(identity.grants))]


def list_kinds(store: EventStore) -> list[dict[str, str]]:
    return [kind_json(k) for k in store.kinds()]


def get_event(store: EventStore, identity: Identity, raw_id: str) -> dict[str, Any]:
    event_id = parse_uuid(raw_id)
    doc = store.get(event_id)
    if doc is None:
        raise EventNotFound()
    allowed = doc.get("allowed") or {}
    ensure(identity.grants, allowed.get("scheme", ""), _contexts(allowed))
    return event_json(doc)


def cancel_event(store: EventStore, identity: Identity, raw_id: str, reason: str) -> None:
    event_id = parse_uuid(raw_id)
    doc = store.get(event_id)
    if doc is None:
        raise EventNotFound()
    if not reason:
        raise ReasonMandatory()
    allowed = doc.get("allowedcancel") or {}
    # A non-cancelable event has the root scheme here: only admins get past it.
    ensure(identity.grants, allowed.get("scheme", ""), _contexts(allowed))
    if not doc.get("cancelable") or not doc.get("running"):
        raise NotCancelable()
    if store.request_cancel(event_id, owner=identity.name, reason=reason, when=now()):
        return
    current = store.get(event_id) or {}
    if (current.get("cancelinfo") or {}).get("asked"):
        raise CancelAlreadyRequested()
    raise NotCancelable()  # finished meanwhile
