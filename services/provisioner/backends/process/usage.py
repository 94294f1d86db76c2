"""CPU time used by units, for unit autoscale: the sum over every process of the unit's
process group (the command and what it forked), read from /proc in one scan."""

from __future__ import annotations

import os
from collections.abc import Iterable

from services.provisioner.backends.process import unitfs
from services.provisioner.backends.process.layout import Layout

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _group_times() -> dict[int, float]:
    """Process group id -> CPU seconds (user + system) of its live processes."""
    totals: dict[int, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                raw = f.read().decode("ascii", "replace")
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after it.
        fields = raw[raw.rfind(")") + 2 :].split()
        try:
            pgid, utime, stime = int(fields[2]), int(fields[11]), int(fields[12])
        except (IndexError, ValueError):
            continue
        totals[pgid] = totals.get(pgid, 0.0) + (utime + stime) / _TICKS
    return totals


def cpu_seconds(root: str, units: Iterable[str]) -> dict[str, float]:
    """CPU seconds of each running unit of ``root`` (units not running are left out)."""
    layout = Layout(root, (1000, 1000))
    pids: dict[str, int] = {}
    for unit in units:
        state = unitfs.read_json(str(layout.unit_dir(unit) / unitfs.STATE)) or {}
        if unitfs.alive(state.get("pid"), state.get("pid_start")):
            pids[unit] = int(state["pid"])
    if not pids:
        return {}
    times = _group_times()
    return {unit: times.get(pid, 0.0) for unit, pid in pids.items()}
