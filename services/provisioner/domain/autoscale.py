"""Unit autoscale of an app's processes (apps.md §9.2 ``/apps/{app}/units/autoscale``):
tsuru's AutoScaleSpec, its validation texts, and the decision the evaluator takes from
measured CPU usage (the rule of Kubernetes' horizontal pod autoscaler, which tsuru
1.11 delegates to)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.provisioner.domain.runtime_errors import AutoscaleInvalid, InvalidCommand

# Usage within this fraction of the target changes nothing (HPA's default tolerance).
TOLERANCE = 0.1


@dataclass(frozen=True)
class AutoscaleSpec:
    process: str
    min_units: int
    max_units: int
    average_cpu: str  # as given: "70%", "70" or "700m"
    version: int = 0

    @classmethod
    def from_json(cls, data: object) -> AutoscaleSpec:
        if not isinstance(data, Mapping):
            raise InvalidCommand("autoscale spec must be an object")

        def count(key: str) -> int:
            value = data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidCommand(f"autoscale spec: {key} must be a non-negative integer")
            return value

        process = data.get("process", "")
        cpu = data.get("averageCPU", "")
        if not isinstance(process, str) or not isinstance(cpu, str):
            raise InvalidCommand("autoscale spec: process and averageCPU must be strings")
        return cls(process, count("minUnits"), count("maxUnits"), cpu, count("version"))

    def to_json(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "minUnits": self.min_units,
            "maxUnits": self.max_units,
            "averageCPU": self.average_cpu,
            "version": self.version,
        }


def cpu_target(spec: AutoscaleSpec, plan_cpumilli: int) -> int:
    """tsuru's ToCPUValue: a percentage of the plan's CPU limit, or (no limit) absolute
    milli-cores. Raises with tsuru's texts (without the validation prefix)."""
    raw = spec.average_cpu.removesuffix("%")
    try:
        cpu = int(raw)
    except ValueError:
        try:
            cpu = int(spec.average_cpu.removesuffix("m")) // 10
        except ValueError:
            raise ValueError(
                f'unable to parse value "{spec.average_cpu}" as autoscale cpu percentage'
            ) from None
    if plan_cpumilli == 0:
        return cpu * 10
    if cpu > 95:
        raise ValueError("autoscale cpu value cannot be greater than 95%")
    if cpu < 20:
        raise ValueError("autoscale cpu value cannot be less than 20%")
    return cpu


def validate(spec: AutoscaleSpec, quota_limit: int, plan_cpumilli: int) -> None:
    """tsuru's AutoScaleSpec.Validate, each failure prefixed as the API answers it."""
    if spec.min_units == 0:
        raise AutoscaleInvalid("minimum units must be greater than 0")
    if spec.max_units <= spec.min_units:
        raise AutoscaleInvalid("maximum units must be greater than minimum units")
    if quota_limit > 0 and spec.max_units > quota_limit:
        raise AutoscaleInvalid("maximum units cannot be greater than quota limit")
    try:
        cpu_target(spec, plan_cpumilli)
    except ValueError as exc:
        raise AutoscaleInvalid(str(exc)) from None


def usage_of_target(usage_milli: float, spec: AutoscaleSpec, plan_cpumilli: int) -> float:
    """Measured average usage per unit as a ratio of the target (1.0 = on target)."""
    target = cpu_target(spec, plan_cpumilli)
    if plan_cpumilli:
        percent = 100.0 * usage_milli / plan_cpumilli
        return percent / target
    return usage_milli / target if target else 0.0


def desired_units(current: int, ratio: float, spec: AutoscaleSpec) -> int:
    """HPA: ceil(current * ratio) unless within the tolerance, bounded by min/max."""
    if current <= 0:
        return spec.min_units
    wanted = current
    if abs(ratio - 1.0) > TOLERANCE:
        wanted = math.ceil(current * ratio - 1e-9)
    return max(spec.min_units, min(spec.max_units, wanted))
