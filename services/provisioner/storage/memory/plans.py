"""In-memory plans store."""

from __future__ import annotations

from dataclasses import replace

from services.provisioner.domain import errors
from services.provisioner.domain.models import Plan
from services.provisioner.storage.memory.common import Locked, MemoryFlag


class MemoryPlanStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Plan] = {}
        self.flag = MemoryFlag()

    def _out(self, plan: Plan) -> Plan:
        return replace(plan, default=plan.name == self.flag.name)

    def add(self, plan: Plan) -> None:
        with self.lock:
            if plan.name in self.items:
                raise errors.PlanExists()
            self.items[plan.name] = replace(plan, default=False)
            if plan.default:
                self.flag.name = plan.name

    def get(self, name: str) -> Plan | None:
        plan = self.items.get(name)
        return None if plan is None else self._out(plan)

    def all(self) -> list[Plan]:
        return [self._out(p) for p in sorted(list(self.items.values()), key=lambda p: p.name)]

    def default(self) -> Plan | None:
        name = self.flag.name
        return None if name is None else self.get(name)

    def delete(self, name: str) -> bool:
        with self.lock:
            if self.flag.name == name:
                self.flag.name = None
            return self.items.pop(name, None) is not None
