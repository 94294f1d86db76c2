"""Observing and stopping units from their directories (no backend instance needed).

Everything here reads what the unit runners wrote and checks it against /proc, so any
process (a new backend after a crash, ``stop-all`` at the end of a stack) sees the
same truth.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from services.provisioner.backends.base import ERROR, STARTED, STARTING, STOPPED, UnitState
from services.provisioner.backends.process import cgroups, unitfs
from services.provisioner.backends.process.layout import Layout

RUNNER_MODULE = "services.provisioner.backends.process.runner"


@dataclass(frozen=True)
class UnitMeta:
    """What does not change while a unit exists (read once from spec.json)."""

    id: str
    app: str
    process: str
    version: int
    node: str


def meta_of(spec: dict[str, Any]) -> UnitMeta:
    return UnitMeta(
        id=str(spec["id"]),
        app=str(spec["app"]),
        process=str(spec["process"]),
        version=int(spec["version"]),
        node=str(spec.get("node", "")),
    )


def runner_alive(state: dict[str, Any]) -> bool:
    return unitfs.alive(state.get("runner_pid"), state.get("runner_start"))


def observe(meta: UnitMeta, state: dict[str, Any] | None) -> UnitState:
    """The unit as it really is: the runner's word, checked against /proc."""
    state = state or {}
    created = state.get("created_at")
    created_at = datetime.fromisoformat(created) if isinstance(created, str) else None
    restarts = int(state.get("restarts") or 0)
    port = state.get("port")
    if runner_alive(state):
        status = str(state.get("status") or STARTING)
        if status not in (STARTING, STARTED, ERROR, STOPPED):
            status = STARTING
        detail = str(state.get("detail") or "")
        address = f"127.0.0.1:{port}" if port and status != STOPPED else ""
    elif state.get("status") == STOPPED:
        status, detail, address = STOPPED, str(state.get("detail") or ""), ""
    else:
        status, detail, address = ERROR, "the unit runner is not running", ""
    return UnitState(
        id=meta.id,
        app=meta.app,
        process=meta.process,
        version=meta.version,
        node=meta.node,
        status=status,
        address=address,
        restarts=restarts,
        created_at=created_at,
        status_detail=detail,
    )


def kill_leftovers(layout: Layout, unit: str, state: dict[str, Any]) -> None:
    """The runner is dead: end its command too (by process group, then by cgroup)."""
    pid, start = state.get("pid"), state.get("pid_start")
    if unitfs.alive(pid, start):
        with contextlib.suppress(OSError):
            os.killpg(int(pid or 0), signal.SIGKILL)
    if layout.as_root:
        cgroups.kill(layout.scope, unit)


def request_stop(directory: Path, state: dict[str, Any], grace: float) -> bool:
    """Ask the runner to stop within ``grace``; False if it was not running."""
    if not runner_alive(state):
        return False
    unitfs.write_json(str(directory / unitfs.STOP), {"timeout": grace}, 0o600)
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(state["runner_pid"]), signal.SIGTERM)
    return True


def finish_stop(layout: Layout, unit: str, state: dict[str, Any], deadline: float) -> None:
    """Wait for the runner until ``deadline``, then end it and its command by force."""
    while runner_alive(state) and time.monotonic() < deadline:
        time.sleep(0.05)
    if runner_alive(state):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(state["runner_pid"]), signal.SIGKILL)
        while runner_alive(state) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
    fresh = unitfs.read_json(str(layout.unit_dir(unit) / unitfs.STATE)) or state
    kill_leftovers(layout, unit, fresh)
    if fresh.get("status") != STOPPED or fresh.get("pid"):
        fresh.update(status=STOPPED, pid=None, pid_start=None)
        with contextlib.suppress(FileNotFoundError):
            unitfs.write_json(str(layout.unit_dir(unit) / unitfs.STATE), fresh, 0o640)


def stray_runners(root: str) -> list[int]:
    """Runner processes of this root found in /proc (also those that wrote no state)."""
    prefix = os.path.join(os.path.abspath(root), "units") + os.sep
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(RUNNER_MODULE.encode() in a for a in args) and any(
            a.decode("utf-8", "replace").startswith(prefix) for a in args
        ):
            if unitfs.proc_start(int(name)) is not None:
                found.append(int(name))
    return found


def running_processes(root: str) -> list[int]:
    """Every live process of this root's units: runners, commands, cgroup members."""
    layout = Layout(root, (1000, 1000))
    pids = set(stray_runners(root))
    for unit in layout.unit_ids():
        state = unitfs.read_json(str(layout.unit_dir(unit) / unitfs.STATE)) or {}
        if runner_alive(state):
            pids.add(int(state["runner_pid"]))
        if unitfs.alive(state.get("pid"), state.get("pid_start")):
            pids.add(int(state["pid"]))
    if layout.as_root:
        pids |= {p for p in cgroups.members(layout.scope) if unitfs.proc_start(p) is not None}
    return sorted(pids)


def stop_all(root: str, timeout: float = 10.0) -> int:
    """Stop every unit of the backend root ``root``; the number of runners stopped.

    For the end of a stack or a test: units are marked ``stopped`` (a reconciler
    starts them again later), their runners and commands are gone when it returns.
    """
    layout = Layout(root, (1000, 1000))
    if not layout.units.is_dir():
        return 0
    states: dict[str, dict[str, Any]] = {}
    stopped = 0
    for unit in layout.unit_ids():
        state = unitfs.read_json(str(layout.unit_dir(unit) / unitfs.STATE)) or {}
        states[unit] = state
        if request_stop(layout.unit_dir(unit), state, timeout):
            stopped += 1
    deadline = time.monotonic() + timeout + 2
    for unit, state in states.items():
        finish_stop(layout, unit, state, deadline)
    for pid in stray_runners(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            stopped += 1
    if layout.as_root:
        cgroups.remove(layout.scope)
    return stopped
