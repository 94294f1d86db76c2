"""Event blocks: list, add, remove (§2.11). Permissions are global-only."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from services.events.domain.errors import BlockNotFound, BlockReasonRequired
from services.events.domain.filters import go_bool
from services.events.operations.common import parse_uuid
from services.events.operations.deps import Deps
from shared.errors import Invalid
from shared.events import Block, Target
from shared.events.model import now
from shared.golang.times import ZERO_TIME
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure


def list_blocks(deps: Deps, identity: Identity, active: str | None) -> list[Block]:
    ensure(identity, "event-block.read")
    wanted: bool | None = None
    if active:
        try:
            wanted = go_bool(active, "active")
        except Invalid:
            wanted = False  # tsuru: any unparseable value means "inactive only"
    return deps.stores.blocks.list(wanted)


def add_block(deps: Deps, identity: Identity, data: Mapping[str, Any], custom_data: Any) -> Block:
    permit = authorize(identity, "event-block.add")
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
    with permit.record(
        deps.recorder, target=Target("event-block", str(block.id)), custom_data=custom_data
    ):
        deps.stores.blocks.add(block)
    _settle(deps)
    return block


def remove_block(deps: Deps, identity: Identity, raw_id: str) -> None:
    permit = authorize(identity, "event-block.remove")
    block_id = parse_uuid(raw_id)
    # tsuru records the removal before looking the block up.
    with permit.record(
        deps.recorder,
        target=Target("event-block", raw_id),
        custom_data=[{"name": "ID", "value": raw_id}],
    ):
        if not deps.stores.blocks.deactivate(block_id, now()):
            raise BlockNotFound(raw_id)
    _settle(deps)


def _settle(deps: Deps) -> None:
    """Answer once every recorder's cached blocks are younger than the change: a
    mutation started after the answer is checked against it, as in tsuru."""
    time.sleep(deps.config.blocks_settle)
