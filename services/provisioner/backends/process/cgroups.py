"""cgroup v1 groups of units: a hard memory limit, CPU weight/quota, a process cap.

Each unit gets ``<controller>/tsubame/<scope>/<unit>`` in the memory, cpu and pids
hierarchies (``scope`` names one backend root, so stopping a stack reaches exactly its
units). A controller that is absent or not writable (not root, cgroup v2 only) is
skipped: the unit runner then falls back to rlimits and ``nice``. Standard library only:
the unit runner imports it.
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


def _dir(controller: str, scope: str, unit: str = "") -> str:
    path = os.path.join(BASE, controller, "tsubame", scope)
    return os.path.join(path, unit) if unit else path


def available(controller: str) -> bool:
    """The v1 hierarchy of ``controller`` is mounted and we may create groups in it."""
    top = os.path.join(BASE, controller)
    return os.path.isfile(os.path.join(top, "cgroup.procs")) and os.access(top, os.W_OK)


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


def create(scope: str, unit: str, limits: dict[str, int]) -> dict[str, str]:
    """Make (or update) the unit's groups; controller -> its ``cgroup.procs`` path.

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
    return procs


def groups(scope: str) -> set[str]:
    """Names of the scope's groups (units, builds, isolated runs) in any controller."""
    found: set[str] = set()
    for controller in CONTROLLERS:
        try:
            found.update(e.name for e in os.scandir(_dir(controller, scope)) if e.is_dir())
        except OSError:
            continue
    return found


def members(scope: str, unit: str = "") -> set[int]:
    """Pids in the unit's groups (or in every group of the scope when unit is '')."""
    found: set[int] = set()
    for controller in CONTROLLERS:
        top = _dir(controller, scope, unit)
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
    for controller in CONTROLLERS:
        top = _dir(controller, scope, unit)
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
            for _ in range(20):  # rmdir fails while the last killed task is exiting
                try:
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def oom_kills(scope: str, unit: str) -> int:
    """How many times the kernel killed a process of the unit for memory."""
    path = os.path.join(_dir("memory", scope, unit), "memory.oom_control")
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def failcnt(scope: str, unit: str) -> int:
    """How many times the unit's memory use hit its limit."""
    try:
        with open(os.path.join(_dir("memory", scope, unit), "memory.failcnt")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0
