"""Moving docker units between nodes (provisioning.md §3.4, §3.12): container moves,
rebalance and the units of a node being removed. Commands of the provisioner's own web
process to its worker (no app spec: each unit is moved under its app's lease).

A move starts a new unit of the same process and version on the destination, waits
until it is healthy, routes it, then takes the old one out of the route, lets the
gateways follow and removes it: no moment without the unit's capacity. A new unit that
fails is destroyed and the old one keeps serving. Progress lines are tsuru's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from services.provisioner.domain.runtime_errors import InvalidCommand, NoNodes
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime import scheduler, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.progress import Progress
from services.provisioner.operations.runtime.scheduler import host

log = logging.getLogger(__name__)

Write = Callable[[str], None]


def _strings(args: Mapping[str, Any], key: str) -> list[str]:
    value = args.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidCommand(f"{key} must be a list of strings")
    return list(value)


def move_one(deps: RuntimeDeps, unit_id: str, dest: str, write: Write, *, show_to: bool) -> str:
    """Move one unit to ``dest`` (``""``: the scheduler's choice among the other nodes of
    its pool); the new unit's id ("" when the unit is gone)."""
    found = deps.stores.units.get(unit_id)
    if found is None:
        write(f"unit {unit_id} is gone: nothing to move\n")
        return ""
    with AppLease(deps, found.app):
        unit = deps.stores.units.get(unit_id)
        rt = deps.stores.runtimes.get(found.app)
        if unit is None or rt is None or unit.version not in rt.releases:
            write(f"unit {unit_id} is gone: nothing to move\n")
            return ""
        if not dest:
            pool = scheduler.pool_of(deps, rt)
            nodes = scheduler.usable_nodes(deps, pool, exclude=[unit.node])
            if not nodes:
                raise NoNodes(pool)
            dest = scheduler.choose(nodes, deps.stores.units.all(), rt.app, unit.process, unit.id)
        to = f" -> {host(dest)}" if show_to else ""
        write(f'Moving unit {unit.id} for "{unit.app}" from {host(unit.node)}{to}...\n')
        progress = Progress(rt.app, lambda _: None, None, deps.app_log)
        try:
            [new] = unitset.record_units(deps, rt, unit.process, unit.version, 1)
            try:
                new = unitset.start(deps, rt, new, node=dest)
                unitset.wait_healthy(deps, rt, rt.release(unit.version), [new], progress, "move")
            except BaseException:
                deps.backend.remove_unit(new.id)
                deps.stores.units.delete(new.id)
                raise
            unitset.sync_route(deps, rt)
            unitset.announce_units(deps, rt.app, added=[new])
            unitset.remove(deps, rt, [unit])
        finally:
            progress.close()
        write(f'Moved unit {unit.id} -> {new.id} for "{unit.app}" from {host(unit.node)} -> '
              f"{host(dest)}\n")  # fmt: skip
        return new.id


def move_units(deps: RuntimeDeps, args: Mapping[str, Any], write: Write) -> dict[str, Any]:
    """``units.move``: ``units`` (ids) to ``to`` (a node address; "" = the scheduler's
    choice); ``show_to`` names the destination in the first line (container moves)."""
    to = args.get("to") or ""
    if not isinstance(to, str):
        raise InvalidCommand("to must be a string")
    moved = []
    for unit_id in _strings(args, "units"):
        new = move_one(deps, unit_id, to, write, show_to=bool(args.get("show_to")))
        if new:
            moved.append(new)
    return {"moved": moved}


def rebalance(deps: RuntimeDeps, args: Mapping[str, Any], write: Write) -> dict[str, Any]:
    """``units.rebalance``: every unit of ``pool``'s docker nodes (every docker pool when
    ""; of ``apps`` only when given) goes where the scheduler would put it now, leaving
    itself out of the counts, so the spread evens out. ``dry``: only said."""
    pool = args.get("pool") or ""
    if not isinstance(pool, str):
        raise InvalidCommand("pool must be a string")
    apps = set(_strings(args, "apps"))
    dry = bool(args.get("dry"))
    nodes = [n for n in scheduler.docker_nodes(deps, pool) if scheduler.node_ready(deps, n)]
    addresses = {n.address for n in nodes}

    def selected() -> list[Unit]:
        return [
            u
            for u in deps.stores.units.all()
            if u.node in addresses and (not apps or u.app in apps)
        ]

    units = selected()
    if not nodes:
        write("No hosts matching metadata filters\n")
        return {"moved": []}
    if not units:
        write("No containers found to rebalance\n")
        return {"moved": []}
    write(f"Rebalancing {len(units)} units...\n")
    moved = []
    for unit in units:
        current = deps.stores.units.get(unit.id)
        if current is None:
            continue
        pool_nodes = [n for n in nodes if n.pool == (nodes_pool(nodes, current.node))]
        best = scheduler.choose(
            pool_nodes, deps.stores.units.all(), current.app, current.process, current.id
        )
        if best == current.node:
            continue
        if dry:
            write(f'Would move unit {current.id} for "{current.app}" from {host(current.node)} '
                  f"-> {host(best)}\n")  # fmt: skip
            continue
        try:
            new = move_one(deps, current.id, best, write, show_to=False)
        except Exception as exc:
            write(f"Error moving container: {exc}\n")
            continue
        if new:
            moved.append(new)
    return {"moved": moved}


def nodes_pool(nodes: list[Any], address: str) -> str:
    return next((n.pool for n in nodes if n.address == address), "")


MOVE_COMMANDS: dict[str, Callable[[RuntimeDeps, Mapping[str, Any], Write], dict[str, Any]]] = {
    "units.move": move_units,
    "units.rebalance": rebalance,
}
