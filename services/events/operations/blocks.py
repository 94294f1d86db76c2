"""Event blocks: list, add, remove (§2.11). Permissions are global-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from services.events.domain.errors import BlockNotFound, BlockReasonRequired
from services.events.domain.filters import go_bool
from services.events.operations.common import parse_uuid
from services.events.operations.recording import Recorder
from services.events.storage.ports import BlockStore
from shared.errors import Invalid
from shared.events import Allowed, Block, Target
from shared.events.model import ZERO_TIME, now
from shared.golang.times import rfc3339nano
from shared.identity import Identity
from shared.permissions import ensure

READ_EVENTS = Allowed("event-block.read.events")


def block_json(block: Block) -> dict[str, Any]:
    return {
        "ID": str(block.id),
        "StartTime": rfc3339nano(block.start_time),
        "EndTime": rfc3339nano(block.end_time),
        "KindName": block.kind_name,
        "OwnerName": block.owner_name,
        "Target": {"Type": block.target.type, "Value": block.target.value},
        # encoding/json writes map keys sorted
        "Conditions": (
            {k: block.conditions[k] for k in sorted(block.conditions)}
            if block.conditions is not None
            else None
        ),
        "Reason": block.reason,
        "Active": block.active,
    }


def list_blocks(store: BlockStore, identity: Identity, active: str | None) -> list[dict[str, Any]]:
    ensure(identity.grants, "event-block.read")
    wanted: bool | None = None
    if active:
        try:
            wanted = go_bool(active, "active")
        except Invalid:
            wanted = False  # tsuru: any unparseable value means "inactive only"
    return [block_json(b) for b in store.list(wanted)]


def add_block(
    store: BlockStore,
    recorder: Recorder,
    identity: Identity,
    data: Mapping[str, Any],
    custom_data: Any,
) -> Block:
    ensure(identity.grants, "event-block.add")
    if not data.get("reason"):
        raise BlockReasonRequired()
    target = data.get("target") or {}
    conditions = data.get("conditions")
    block = Block(
        id=ObjectId(),
        start_time=now(),
        reason=data["reason"],
        kind_name=data.get("kind_name") or "",
        owner_name=data.get("owner_name") or "",
        target=Target(target.get("type") or "", target.get("value") or ""),
        conditions=dict(conditions) if conditions is not None else None,
        end_time=data.get("end_time") or ZERO_TIME,
    )
    # tsuru leaves the target value empty while the add runs; the id is known
    # beforehand here, so the event names its block from the start.
    with recorder.record(
        target=Target("event-block", str(block.id)),
        kind="event-block.add",
        owner=identity,
        allowed=READ_EVENTS,
        custom_data=custom_data,
    ):
        store.add(block)
    return block


def remove_block(store: BlockStore, recorder: Recorder, identity: Identity, raw_id: str) -> None:
    ensure(identity.grants, "event-block.remove")
    block_id = parse_uuid(raw_id)
    with recorder.record(
        target=Target("event-block", raw_id),
        kind="event-block.remove",
        owner=identity,
        allowed=READ_EVENTS,
        custom_data=[{"name": "ID", "value": raw_id}],
    ):
        if not store.deactivate(block_id, now()):
            raise BlockNotFound(raw_id)
