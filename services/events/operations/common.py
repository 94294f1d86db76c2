"""Helpers shared by the events context's operations."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from services.events.domain.errors import InvalidUUID


def parse_uuid(raw: str) -> ObjectId:
    """tsuru's ``bson.IsObjectIdHex``: exactly 24 hex digits."""
    if len(raw) != 24:
        raise InvalidUUID(raw)
    try:
        return ObjectId(raw)
    except (InvalidId, TypeError) as exc:
        raise InvalidUUID(raw) from exc
