"""Plans (provisioning.md §3.2)."""

from __future__ import annotations

from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.models import Plan
from services.provisioner.operations.deps import Deps
from shared.events import Target
from shared.identity import Identity
from shared.mutation import mutation

MIN_MEMORY = 4194304


def create_plan(deps: Deps, identity: Identity, plan: Plan, fields: Any) -> Plan:
    with mutation(deps, identity, "plan.create", target=Target("plan", plan.name),
                  custom_data=fields):  # fmt: skip
        if not plan.name:
            raise errors.PlanNameRequired()
        if 0 < plan.cpushare < 2:
            raise errors.CpuShareTooLow()
        if 0 < plan.memory < MIN_MEMORY:
            raise errors.MemoryTooLow()
        deps.stores.plans.add(plan)
    return plan


def list_plans(deps: Deps) -> list[Plan]:
    """Any authenticated caller may list plans (tsuru checks no permission)."""
    return deps.stores.plans.all()


def remove_plan(deps: Deps, identity: Identity, name: str, fields: Any) -> None:
    with mutation(deps, identity, "plan.delete", target=Target("plan", name),
                  custom_data=fields):  # fmt: skip
        if not deps.stores.plans.delete(name):
            raise errors.PlanNotFound()
