"""Unit autoscale evaluated for real: every ``autoscale_interval`` seconds the CPU time
of each autoscaled process's units is sampled, its rate compared with the target
(domain/autoscale.py), and the process scaled within its min/max, like Kubernetes'
horizontal pod autoscaler that tsuru 1.11 configures."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace

from services.provisioner.domain.autoscale import (
    AutoscaleSpec,
    desired_units,
    usage_of_target,
)
from services.provisioner.domain.runtime import STARTED, AppRuntime, Group
from services.provisioner.operations.runtime import rollout, state, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.progress import Progress
from shared.errors import TsubameError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    app: str
    process: str
    version: int
    current: int
    wanted: int
    usage_milli: float | None


def _noop(_: dict[str, object]) -> None:
    return None


class Autoscaler:
    def __init__(self, deps: RuntimeDeps) -> None:
        self.deps = deps
        self._samples: dict[str, tuple[float, float]] = {}  # unit -> (monotonic, cpu s)

    def _group(self, rt: AppRuntime, spec: AutoscaleSpec) -> Group | None:
        version = spec.version or rt.latest_version()
        release = rt.releases.get(version)
        if release is None:
            return None
        try:
            process = release.process_name(spec.process)
        except TsubameError:
            return None
        group = rt.group(process, version)
        return group if group is not None and group.status == STARTED else None

    def _usage(self, units: list[str]) -> float | None:
        """Average milli-CPU per unit since the previous sample (None on the first)."""
        now = time.monotonic()
        used = self.deps.usage.cpu_seconds(units)
        rates: list[float] = []
        for unit, seconds in used.items():
            before = self._samples.get(unit)
            self._samples[unit] = (now, seconds)
            if before is not None and now > before[0]:
                rates.append(1000.0 * max(seconds - before[1], 0.0) / (now - before[0]))
        return sum(rates) / len(rates) if rates else None

    def evaluate(self) -> list[Decision]:
        decisions: list[Decision] = []
        alive: set[str] = set()
        for app, specs in self.deps.stores.autoscale.all().items():
            rt = self.deps.stores.runtimes.get(app)
            if rt is None:
                continue
            for spec in specs:
                group = self._group(rt, spec)
                if group is None:
                    continue
                units = [
                    u.id
                    for u in self.deps.stores.units.of_app(app)
                    if (u.process, u.version) == group.key
                ]
                alive.update(units)
                usage = self._usage(units)
                wanted = max(spec.min_units, min(spec.max_units, group.units))
                if usage is not None and units:
                    ratio = usage_of_target(usage, spec, rt.spec.plan.cpumilli)
                    wanted = desired_units(group.units, ratio, spec)
                decision = Decision(app, group.process, group.version, group.units, wanted, usage)
                decisions.append(decision)
                if wanted != group.units:
                    self.scale(decision)
        for gone in set(self._samples) - alive:
            del self._samples[gone]
        return decisions

    def scale(self, d: Decision) -> bool:
        """Apply one decision under the app's lease (skipped while a command holds it)."""
        deps = self.deps
        lease = AppLease(deps, d.app, wait=0)
        if not lease.try_acquire():
            return False
        try:
            rt = deps.stores.runtimes.get(d.app)
            group = rt.group(d.process, d.version) if rt else None
            if rt is None or group is None or group.units != d.current:
                return False
            progress = Progress(d.app, _noop, None, deps.app_log)
            progress.write(
                f'---- Autoscaling process "{d.process}" from {d.current} to {d.wanted} '
                f"{unitset.pluralize('unit', d.wanted)} ----\n"
            )
            log.info("autoscale %s: %s", d.app, d)
            if d.wanted > d.current:
                rollout.start_new(
                    deps, rt, {group.key: d.wanted - d.current}, progress, "add units"
                )
                rt.put_group(replace(group, units=d.wanted))
                state.save(deps, rt)
                unitset.sync_route(deps, rt)
            else:
                members = [
                    u
                    for u in deps.stores.units.of_app(d.app)
                    if (u.process, u.version) == group.key
                ]
                rt.put_group(replace(group, units=d.wanted))
                state.save(deps, rt)
                victims = members[d.wanted :]
                rollout.retire(deps, rt, victims, progress)
            return True
        except Exception:
            log.exception("autoscale of %s failed", d.app)
            return False
        finally:
            lease.release()


def run_autoscaler(deps: RuntimeDeps, stop: threading.Event) -> None:
    scaler = Autoscaler(deps)
    while not stop.wait(deps.config.autoscale_interval):
        try:
            scaler.evaluate()
        except Exception:
            log.exception("autoscale pass failed")
