"""Unit records: what the runtime knows of each unit it started (status as last observed).

A unit is recorded *before* the backend starts it, so a worker killed between the two
leaves a record the reconciler finishes (start it, or remove it), never an orphan it
cannot name.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.provisioner.backends.base import (
    ASLEEP,
    ERROR,
    STARTED,
    STARTING,
    STATUSES,
    STOPPED,
)
from services.provisioner.domain.runtime_errors import InvalidUnitStatus

# tsuru: units that count as "available" (provisioning.md §4.1) and against the app quota.
AVAILABLE = frozenset({STARTED, STARTING, ERROR})
QUOTA = frozenset({STARTING, STARTED, STOPPED, ASLEEP})


def new_unit_id(app: str, process: str, version: int) -> str:
    return f"{app}-{process}-{version}-{secrets.token_hex(4)}"


def short_id(unit: str) -> str:
    """What tsuru prints in progress lines (a container's short id): the random tail."""
    return unit.rsplit("-", 1)[-1] if "-" in unit else unit[:12]


def check_status(status: object) -> str:
    if not isinstance(status, str) or status not in STATUSES:
        raise InvalidUnitStatus()
    return status


# The fields of a unit record that change after it is made (UnitStore.update).
MUTABLE_FIELDS = (
    "status",
    "address",
    "node",
    "restarts",
    "draining",
    "registered",
    "custom_data",
    "status_detail",
)


@dataclass(frozen=True)
class Unit:
    id: str
    app: str
    process: str
    version: int
    status: str = "created"
    address: str = ""  # host:port
    node: str = ""
    restarts: int = 0
    created_at: datetime | None = None
    # Out of the route on purpose (about to be stopped or removed).
    draining: bool = False
    registered: bool = False
    custom_data: Mapping[str, Any] = field(default_factory=dict)
    status_detail: str = ""

    @property
    def host(self) -> str:
        return self.address.rpartition(":")[0] if ":" in self.address else self.address

    @property
    def port(self) -> str:
        return self.address.rpartition(":")[2] if ":" in self.address else ""


def by_group(units: Iterable[Unit]) -> dict[tuple[str, int], list[Unit]]:
    found: dict[tuple[str, int], list[Unit]] = {}
    for unit in units:
        found.setdefault((unit.process, unit.version), []).append(unit)
    for members in found.values():
        members.sort(key=lambda u: (u.created_at is None, u.created_at or 0, u.id))
    return found


def find_prefix(units: Iterable[Unit], prefix: str) -> Unit | None:
    """tsuru's SetUnitStatus: the first unit whose id starts with ``prefix``."""
    return next((u for u in units if u.id.startswith(prefix)), None)
