"""Helpers shared by the auth context's Mongo stores."""

from __future__ import annotations

import itertools
import time
from typing import Any

from services.auth.domain.models import RoleInstance
from shared.golang.times import utc

__all__ = ["role_instance_doc", "role_instances", "seq", "utc"]

_counter = itertools.count()


def seq() -> float:
    """Insertion order key: tsuru lists users, roles and tokens in storage order."""
    return time.time() + next(_counter) * 1e-9


def role_instances(raw: list[dict[str, Any]] | None) -> list[RoleInstance]:
    return [RoleInstance(r["name"], r.get("value", "")) for r in raw or []]


def role_instance_doc(inst: RoleInstance) -> dict[str, str]:
    return {"name": inst.name, "value": inst.value}
