"""cgroups of units: a hard memory limit, CPU weight/quota, a process cap.

Two layouts behind one interface (the group of a unit, a build or an isolated run is
named by its ``scope``, one backend root, so stopping a stack reaches exactly its units):

* cgroup v1 (this project's machines, hybrid): ``<controller>/tsubame/<scope>/<unit>``
  in the memory, cpu and pids hierarchies (``memory.limit_in_bytes`` and
  ``memory.memsw.limit_in_bytes``, ``cpu.shares``, ``cpu.cfs_quota_us``, ``pids.max``);
* cgroup v2 (unified, ``/sys/fs/cgroup/cgroup.controllers`` exists):
  ``tsubame/<scope>/<unit>`` once, the controllers enabled down to it through each
  parent's ``cgroup.subtree_control`` (``memory.max``, ``memory.swap.max``,
  ``cpu.weight``, ``cpu.max``, ``pids.max``; OOM kills from ``memory.events``).

A controller that is absent or cannot be used (not root, not delegated) is skipped: the
unit runner then falls back to rlimits and ``nice``. Standard library only: the unit
runner imports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

BASE = "/sys/fs/cgroup"
CONTROLLERS = ("memory", "cpu", "pids")
PERIOD_US = 100_000
# A unit's process cap: generous for any web app, fatal for a fork bomb.
PIDS_MAX = 4096
TOP = "tsubame"


def _dir(controller: str, scope: str, unit: str = "") -> str:
    """The group's directory in the v1 hierarchy of ``controller``."""
    path = os.path.join(BASE, controller, TOP, scope)
    return os.path.join(path, unit) if unit else path


def _v2_dir(scope: str, unit: str = "") -> str:
    path = os.path.join(BASE, TOP, scope)
    return os.path.join(path, unit) if unit else path


def available(controller: str) -> bool:
    """The v1 hierarchy of ``controller`` is mounted and we may create groups in it."""
    top = os.path.join(BASE, controller)
    return os.path.isfile(os.path.join(top, "cgroup.procs")) and os.access(top, os.W_OK)


def unified_controllers() -> set[str]:
    """The controllers a unified (v2) hierarchy mounted at BASE offers us; none on a v1
    or hybrid machine (its v2 tree, ``unified/``, holds no controller we use)."""
    try:
        with open(os.path.join(BASE, "cgroup.controllers")) as f:
            offered = set(f.read().split())
    except OSError:
        return set()
    return offered if os.access(BASE, os.W_OK) else set()


def _trees(scope: str, unit: str = "") -> list[str]:
    """Where the group may live: its directory in each v1 hierarchy and in the v2 one."""
    return [*(_dir(c, scope, unit) for c in CONTROLLERS), _v2_dir(scope, unit)]


def _write(path: str, value: int | str) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def _memory(path: str, memory: int, swap: int) -> None:
    limit = os.path.join(path, "memory.limit_in_bytes")
    memsw = os.path.join(path, "memory.memsw.limit_in_bytes")
    total = memory + max(0, swap) if memory > 0 else -1
    value = memory if memory > 0 else -1
    # The kernel wants memory <= memory+swap at every moment: order the two writes.
    try:
        _write(limit, value)
        if os.path.exists(memsw):
            _write(memsw, total)
    except OSError:
        if os.path.exists(memsw):
            _write(memsw, total)
        _write(limit, value)


def cpu_weight(shares: int) -> int:
    """v1 ``cpu.shares`` [2, 262144] as v2 ``cpu.weight`` [1, 10000] (the conversion
    runc and the kubelet use); no share: the default weight."""
    if not shares:
        return 100
    shares = min(max(shares, 2), 262144)
    return 1 + (shares - 2) * 9999 // 262142


def _v2_limits(path: str, controller: str, limits: dict[str, int]) -> None:
    if controller == "memory":
        memory = limits.get("memory", 0)
        _write(os.path.join(path, "memory.max"), memory if memory > 0 else "max")
        swap_max = os.path.join(path, "memory.swap.max")
        if memory > 0 and os.path.exists(swap_max):  # absent without swap accounting
            _write(swap_max, max(0, limits.get("swap", 0)))
    elif controller == "cpu":
        _write(os.path.join(path, "cpu.weight"), cpu_weight(limits.get("cpushare", 0)))
        milli = limits.get("cpu_milli", 0)
        quota = max(1000, milli * PERIOD_US // 1000) if milli else "max"
        _write(os.path.join(path, "cpu.max"), f"{quota} {PERIOD_US}")
    else:
        _write(os.path.join(path, "pids.max"), PIDS_MAX)


def _enable(parents: list[str], wanted: list[str]) -> list[str]:
    """Enable ``wanted`` for the children of each of ``parents`` (top down, all at once
    when the kernel takes them, else one by one); those enabled all the way down."""
    enabled = list(wanted)
    for parent in parents:
        control = os.path.join(parent, "cgroup.subtree_control")
        try:
            with open(control) as f:
                have = f.read().split()
        except FileNotFoundError:
            have = []
        missing = [c for c in enabled if c not in have]
        if not missing:
            continue
        try:
            _write(control, " ".join(f"+{c}" for c in missing))
            continue
        except OSError:
            pass
        for controller in missing:
            try:
                _write(control, f"+{controller}")
            except OSError:
                enabled.remove(controller)  # not delegated to us: skipped
    return enabled


def _create_v2(scope: str, unit: str, limits: dict[str, int], wanted: list[str]) -> list[str]:
    """The unit's v2 group with the ``wanted`` controllers that could be used."""
    parents = [BASE, os.path.join(BASE, TOP), _v2_dir(scope)]
    for parent in parents[1:]:
        os.makedirs(parent, exist_ok=True)
    enabled = _enable(parents, wanted)
    path = _v2_dir(scope, unit)
    os.makedirs(path, exist_ok=True)
    used = []
    for controller in enabled:
        try:
            _v2_limits(path, controller, limits)
        except OSError:
            continue
        used.append(controller)
    return used


def create(scope: str, unit: str, limits: dict[str, int]) -> dict[str, str]:
    """Make (or update) the unit's groups; controller -> its ``cgroup.procs`` path (on
    v2 every controller names the same file: ``procs_files`` lists each once).

    ``limits``: memory, swap (bytes), cpu_milli, cpushare (0 = none).
    """
    procs: dict[str, str] = {}
    for controller in CONTROLLERS:
        if not available(controller):
            continue
        path = _dir(controller, scope, unit)
        try:
            os.makedirs(path, exist_ok=True)
            if controller == "memory":
                _memory(path, limits.get("memory", 0), limits.get("swap", 0))
            elif controller == "cpu":
                shares = limits.get("cpushare", 0)
                _write(os.path.join(path, "cpu.shares"), max(2, shares) if shares else 1024)
                milli = limits.get("cpu_milli", 0)
                _write(os.path.join(path, "cpu.cfs_period_us"), PERIOD_US)
                quota = max(1000, milli * PERIOD_US // 1000) if milli else -1
                _write(os.path.join(path, "cpu.cfs_quota_us"), quota)
            else:
                _write(os.path.join(path, "pids.max"), PIDS_MAX)
        except OSError:
            continue  # this controller cannot be used here; the others still apply
        procs[controller] = os.path.join(path, "cgroup.procs")
    offered = unified_controllers()
    wanted = [c for c in CONTROLLERS if c not in procs and c in offered]
    if wanted:
        try:
            enabled = _create_v2(scope, unit, limits, wanted)
        except OSError:
            enabled = []
        procs.update(dict.fromkeys(enabled, os.path.join(_v2_dir(scope, unit), "cgroup.procs")))
    return procs


def procs_files(groups: dict[str, str]) -> list[str]:
    """The distinct ``cgroup.procs`` files of ``create``'s answer (a process joins each)."""
    return sorted(set(groups.values()))


def existing(scope: str, unit: str) -> list[str]:
    """The ``cgroup.procs`` files of the unit's groups that exist (to join them)."""
    found = [os.path.join(t, "cgroup.procs") for t in _trees(scope, unit)]
    return [p for p in found if os.path.exists(p)]


def groups(scope: str) -> set[str]:
    """Names of the scope's groups (units, builds, isolated runs) in any hierarchy."""
    found: set[str] = set()
    for tree in _trees(scope):
        try:
            found.update(e.name for e in os.scandir(tree) if e.is_dir())
        except OSError:
            continue
    return found


def members(scope: str, unit: str = "") -> set[int]:
    """Pids in the unit's groups (or in every group of the scope when unit is '')."""
    found: set[int] = set()
    for top in _trees(scope, unit):
        for dirpath, _dirs, files in os.walk(top):
            if "cgroup.procs" in files:
                with contextlib.suppress(OSError), open(os.path.join(dirpath, "cgroup.procs")) as f:
                    found.update(int(line) for line in f if line.strip())
    return found


def kill(scope: str, unit: str = "") -> None:
    """SIGKILL every process of the unit (of the whole scope when unit is '')."""
    for _ in range(20):  # a process may fork while we kill: repeat until empty
        pids = members(scope, unit)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def remove(scope: str, unit: str = "") -> None:
    """Delete the unit's groups (the scope's when unit is ''); its processes are killed."""
    kill(scope, unit)
    for top in _trees(scope, unit):
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
            for _ in range(20):  # rmdir fails while the last killed task is exiting
                try:
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _counter(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def oom_kills(scope: str, unit: str) -> int:
    """How many times the kernel killed a process of the unit for memory."""
    return _counter(
        os.path.join(_dir("memory", scope, unit), "memory.oom_control"), "oom_kill"
    ) + _counter(os.path.join(_v2_dir(scope, unit), "memory.events"), "oom_kill")
