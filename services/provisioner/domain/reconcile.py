"""What the reconciler must do to bring an app's units to its desired state: a pure
comparison of the desired state, the unit records and what the backend really runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.provisioner.backends.base import ERROR, STOPPED, UnitState
from services.provisioner.domain.runtime import ASLEEP, STARTED, AppRuntime
from services.provisioner.domain.units import Unit, by_group, short_id


@dataclass
class Plan:
    start: list[Unit] = field(default_factory=list)  # recorded, should run, does not
    stop: list[Unit] = field(default_factory=list)  # should be down, runs
    remove: list[Unit] = field(default_factory=list)  # recorded, not wanted any more
    orphans: list[str] = field(default_factory=list)  # running, never recorded
    create: dict[tuple[str, int], int] = field(default_factory=dict)  # missing units
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # record refreshes
    stale_pending: list[tuple[str, int]] = field(default_factory=list)  # of dead deploys
    # unit id -> a line for the app log: the unit exited and its supervisor restarts it
    # (its count of restarts grew since the record); comes with a ``statuses`` refresh.
    crashes: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.start
            or self.stop
            or self.remove
            or self.orphans
            or self.create
            or self.statuses
            or self.stale_pending
        )


def _refresh(unit: Unit, seen: UnitState | None, desired: str) -> dict[str, Any]:
    """The record fields that differ from what the backend shows."""
    if seen is None:
        return {}
    status = seen.status
    if desired == ASLEEP and status == STOPPED:
        status = ASLEEP
    wanted: dict[str, Any] = {
        "status": status,
        "address": seen.address,
        "restarts": seen.restarts,
        "status_detail": seen.status_detail,
    }
    if seen.node:
        wanted["node"] = seen.node
    return {k: v for k, v in wanted.items() if getattr(unit, k) != v}


def needs_start(seen: UnitState | None) -> bool:
    """Down for good: never started, stopped, or its supervisor is gone (a crash the
    backend itself restarts keeps its address while it backs off)."""
    return seen is None or seen.status == STOPPED or (seen.status == ERROR and not seen.address)


def plan(
    runtime: AppRuntime | None,
    records: Sequence[Unit],
    observed: Iterable[UnitState],
    *,
    pending_stale: bool = False,
) -> Plan:
    """``pending_stale``: the caller holds the app's lease, so groups a deploy left
    pending belong to a deploy that died; their units go."""
    seen = {s.id: s for s in observed}
    known = {u.id for u in records}
    todo = Plan(orphans=sorted(uid for uid in seen if uid not in known))
    if runtime is None:
        todo.remove = list(records)
        return todo
    members = by_group(records)
    for group in runtime.groups:
        units = members.pop(group.key, [])
        if group.pending:
            if pending_stale:
                todo.stale_pending.append(group.key)
                todo.remove += units
            continue
        todo.remove += units[group.units :]
        kept = units[: group.units]
        if group.units > len(kept):
            todo.create[group.key] = group.units - len(kept)
        for unit in kept:
            state = seen.get(unit.id)
            if group.status == STARTED:
                if needs_start(state):
                    todo.start.append(unit)
            elif state is not None and state.status != STOPPED:
                todo.stop.append(unit)
            fields = _refresh(unit, state, group.status)
            if fields:
                todo.statuses[unit.id] = fields
            if state is not None and state.restarts > unit.restarts:
                todo.crashes[unit.id] = crash_line(unit, state)
    for units in members.values():  # groups no longer desired
        todo.remove += units
    return todo


def crash_line(unit: Unit, seen: UnitState) -> str:
    """``unit 1a2b3c4d [web] killed by signal 9 (SIGKILL) (out of memory); restarted
    (2 restarts in all)``: why the unit last exited, as its supervisor saw it."""
    why = seen.status_detail or "exited"
    times = "restart" if seen.restarts == 1 else "restarts"
    return (
        f"unit {short_id(unit.id)} [{unit.process}] {why}; restarted "
        f"({seen.restarts} {times} in all)\n"
    )
