"""Helpers shared by the auth context's Mongo stores."""

from __future__ import annotations

import itertools
import time
from typing import Any

from pymongo.collection import Collection

from services.auth.domain.models import RoleInstance
from shared.golang.times import utc

__all__ = ["release_quota", "reserve_quota", "role_instance_doc", "role_instances", "seq", "utc"]

_counter = itertools.count()


def seq() -> float:
    """Insertion order key: tsuru lists users, roles and tokens in storage order."""
    return time.time() + next(_counter) * 1e-9


def role_instances(raw: list[dict[str, Any]] | None) -> list[RoleInstance]:
    return [RoleInstance(r["name"], r.get("value", "")) for r in raw or []]


def role_instance_doc(inst: RoleInstance) -> dict[str, str]:
    return {"name": inst.name, "value": inst.value}


def reserve_quota(c: Collection[dict[str, Any]], key: str) -> str:
    """One more in use under ``quota.limit``, atomically: the update matches only while
    the limit read is still the limit and ``inuse`` is below it, so of two callers at
    the limit one wins. -1 (or any negative limit) is unlimited."""
    for _ in range(20):
        d = c.find_one({"_id": key}, {"quota": 1})
        if d is None:
            return "missing"
        limit = int((d.get("quota") or {}).get("limit", -1))
        if limit < 0:
            flt: dict[str, Any] = {"_id": key, "quota.limit": limit}
        else:
            flt = {"_id": key, "quota.limit": limit, "quota.inuse": {"$lt": limit}}
        if c.update_one(flt, {"$inc": {"quota.inuse": 1}}).modified_count == 1:
            return "ok"
        d = c.find_one({"_id": key}, {"quota": 1})
        if d is None:
            return "missing"
        if int((d.get("quota") or {}).get("limit", -1)) == limit:
            return "exceeded"  # the limit held still: inuse is at it
    return "exceeded"


def release_quota(c: Collection[dict[str, Any]], key: str) -> bool:
    res = c.update_one({"_id": key, "quota.inuse": {"$gt": 0}}, {"$inc": {"quota.inuse": -1}})
    return res.modified_count == 1
