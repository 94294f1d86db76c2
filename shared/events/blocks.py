"""Event blocks: active rules that make matching new events fail (§2.11).

The events service adds and removes them; every recorder checks them at start, from
the active blocks it read at most ``BLOCKS_CACHE_SECONDS`` ago (one read per process
and period instead of one per mutation). The events service answers the addition or
removal of a block only once that long has passed after its write, so any mutation
started after the answer sees it, as in tsuru.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from shared.events.model import Target
from shared.golang.times import ZERO_TIME

# How long a recorder reuses the active blocks it read (measured from the start of the
# read); the events service waits as long before answering a block's add or removal.
BLOCKS_CACHE_SECONDS = 0.25


@dataclass(frozen=True)
class Block:
    id: ObjectId
    start_time: datetime
    reason: str
    kind_name: str = ""
    owner_name: str = ""
    target: Target = Target("", "")
    conditions: Mapping[str, str] | None = None
    end_time: datetime = ZERO_TIME
    active: bool = True

    def matches(self, *, kind: str, owner_name: str, target: Target, custom_data: Any) -> bool:
        if target.type == "event-block":
            # Blocks never block their own removal.
            return False
        if self.kind_name and not kind.startswith(self.kind_name):
            return False
        if self.owner_name and self.owner_name != owner_name:
            return False
        if self.target.type or self.target.value:
            same_type = self.target.type == target.type
            if not (same_type and self.target.value in ("", target.value)):
                return False
        for key, value in (self.conditions or {}).items():
            if not _has_field(custom_data, key, value):
                return False
        return True

    def describe(self) -> str:
        kind = self.kind_name or "all actions"
        owner = self.owner_name or "all users"
        target = str(self.target) if self.target.type else "all targets"
        return f"block {kind} by {owner} on {target}: {self.reason}"


def _has_field(custom_data: Any, name: str, value: str) -> bool:
    if not isinstance(custom_data, list | tuple):
        return False
    return any(
        isinstance(item, Mapping) and item.get("name") == name and item.get("value") == value
        for item in custom_data
    )


def blocked_message(kind: str, target: Target, block: Block) -> str:
    return f'error running "{kind}" on {target}: {block.describe()}'


def first_match(
    blocks: list[Block], *, kind: str, owner_name: str, target: Target, custom_data: Any
) -> Block | None:
    """The newest active block matching, as tsuru reports the first of newest-first."""
    for block in sorted(blocks, key=lambda b: b.start_time, reverse=True):
        if block.active and block.matches(
            kind=kind, owner_name=owner_name, target=target, custom_data=custom_data
        ):
            return block
    return None
