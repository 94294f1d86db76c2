"""Reading the event log and asking a running event to cancel (§2.3-§2.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.events.domain.errors import (
    CancelAlreadyRequested,
    EventNotFound,
    NotCancelable,
    ReasonMandatory,
)
from services.events.domain.filters import EventFilter, Visibility
from services.events.operations.common import parse_uuid
from services.events.operations.deps import Deps
from shared.events import EventRecord, Kind
from shared.events.model import now
from shared.identity import Identity
from shared.permissions import ensure


def list_events(
    deps: Deps, identity: Identity, args: Mapping[str, Sequence[str]]
) -> list[EventRecord]:
    """No permission up front: the list holds what the caller's grants may see."""
    flt = EventFilter.parse(args)
    return deps.stores.events.find(flt, Visibility.of(identity.grants))


def list_kinds(deps: Deps) -> list[Kind]:
    return deps.stores.events.kinds()


def _existing(deps: Deps, raw_id: str) -> EventRecord:
    record = deps.stores.events.get(parse_uuid(raw_id))
    if record is None:
        raise EventNotFound()
    return record


def get_event(deps: Deps, identity: Identity, raw_id: str) -> EventRecord:
    record = _existing(deps, raw_id)
    # The permission is the event's own: its Allowed scheme in its contexts.
    ensure(identity, record.allowed.scheme, record.allowed.contexts)
    return record


def cancel_event(deps: Deps, identity: Identity, raw_id: str, reason: str) -> None:
    record = _existing(deps, raw_id)
    if not reason:
        raise ReasonMandatory()
    # A non-cancelable event has the root scheme here: only admins get past it.
    ensure(identity, record.allowed_cancel.scheme, record.allowed_cancel.contexts)
    if not record.cancelable or not record.running:
        raise NotCancelable()
    if deps.stores.events.request_cancel(record.id, owner=identity.name, reason=reason, when=now()):
        return
    current = deps.stores.events.get(record.id)
    if current is not None and current.cancel_info.asked:
        raise CancelAlreadyRequested()
    raise NotCancelable()  # finished meanwhile
