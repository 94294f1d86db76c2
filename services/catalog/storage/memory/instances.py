"""In-memory service instances store (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import copy
from typing import Any

from services.catalog.domain import errors
from services.catalog.domain.models import BoundUnit, BrokerData, PendingOp, ServiceInstance
from services.catalog.storage.memory.common import Locked


class MemoryInstanceStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], ServiceInstance] = {}

    def _with(self, service: str, name: str) -> ServiceInstance | None:
        return self.items.get((service, name))

    def add(self, instance: ServiceInstance) -> None:
        with self.lock:
            key = (instance.service_name, instance.name)
            if key in self.items:
                raise errors.InstanceExists()
            self.items[key] = copy.deepcopy(instance)

    def get(self, service: str, name: str) -> ServiceInstance | None:
        return copy.deepcopy(self._with(service, name))

    def count_for_service(self, service: str) -> int:
        return sum(1 for s, _ in self.items if s == service)

    def find(
        self,
        *,
        teams: list[str] | None = None,
        names: list[str] | None = None,
        app: str = "",
        service: str = "",
    ) -> list[ServiceInstance]:
        out = []
        for i in self.items.values():
            if (teams is not None or names is not None) and not (
                set(i.teams) & set(teams or []) or i.name in (names or [])
            ):
                continue
            if app and app not in i.apps:
                continue
            if service and i.service_name != service:
                continue
            out.append(copy.deepcopy(i))
        return out

    def of_services(self, services: list[str]) -> list[ServiceInstance]:
        return [
            ServiceInstance(i.name, i.service_name, tags=list(i.tags))
            for i in self.items.values()
            if i.service_name in services
        ]

    def _change(self, service: str, name: str, change: Any) -> bool:
        with self.lock:
            i = self._with(service, name)
            return i is not None and change(i) is not False

    def add_app(self, service: str, name: str, app: str) -> bool:
        return self._change(service, name, lambda i: app not in i.apps and i.apps.append(app))

    def remove_app(self, service: str, name: str, app: str) -> bool:
        def change(i: ServiceInstance) -> bool:
            if app not in i.apps:
                return False
            i.apps = [a for a in i.apps if a != app]
            return True

        return self._change(service, name, change)

    def add_unit(self, service: str, name: str, unit: BoundUnit) -> bool:
        def change(i: ServiceInstance) -> bool:
            if any(u.id == unit.id for u in i.bound_units):
                return False
            i.bound_units.append(unit)
            return True

        return self._change(service, name, change)

    def remove_unit(self, service: str, name: str, unit: BoundUnit) -> bool:
        def change(i: ServiceInstance) -> bool:
            if not any(u.id == unit.id for u in i.bound_units):
                return False
            i.bound_units = [u for u in i.bound_units if u.id != unit.id]
            return True

        return self._change(service, name, change)

    def update(
        self,
        service: str,
        name: str,
        *,
        description: str,
        tags: list[str],
        team_owner: str,
        plan_name: str,
        parameters: dict[str, Any],
    ) -> bool:
        def change(i: ServiceInstance) -> None:
            i.description, i.tags, i.team_owner = description, list(tags), team_owner
            i.plan_name, i.parameters = plan_name, copy.deepcopy(parameters)
            if team_owner not in i.teams:
                i.teams.append(team_owner)

        return self._change(service, name, change)

    def restore(self, instance: ServiceInstance) -> bool:
        def change(i: ServiceInstance) -> None:
            i.description, i.tags = instance.description, list(instance.tags)
            i.team_owner, i.teams = instance.team_owner, list(instance.teams)
            i.plan_name, i.parameters = instance.plan_name, copy.deepcopy(instance.parameters)

        return self._change(instance.service_name, instance.name, change)

    def push_team(self, service: str, name: str, team: str) -> bool:
        return self._change(service, name, lambda i: i.teams.append(team))

    def pull_team(self, service: str, name: str, team: str) -> bool:
        def change(i: ServiceInstance) -> None:
            i.teams = [t for t in i.teams if t != team]

        return self._change(service, name, change)

    def set_broker_data(self, service: str, name: str, data: BrokerData | None) -> bool:
        def change(i: ServiceInstance) -> None:
            i.broker_data = copy.deepcopy(data)

        return self._change(service, name, change)

    def delete(self, service: str, name: str) -> bool:
        with self.lock:
            return self.items.pop((service, name), None) is not None

    def bound_to(self, app: str) -> list[ServiceInstance]:
        return self.find(app=app)

    def using_team(self, team: str) -> list[str]:
        return [i.name for i in self.items.values() if team in i.teams]

    def add_pending(self, service: str, name: str, op: PendingOp) -> bool:
        return self._change(service, name, lambda i: i.pending.append(op))

    def remove_pending(self, service: str, name: str, event: str) -> bool:
        def change(i: ServiceInstance) -> bool:
            if not any(p.event == event for p in i.pending):
                return False
            i.pending = [p for p in i.pending if p.event != event]
            return True

        return self._change(service, name, change)

    def with_pending(self) -> list[ServiceInstance]:
        return [copy.deepcopy(i) for i in self.items.values() if i.pending]

    def bound_apps(self) -> list[str]:
        return sorted({a for i in self.items.values() for a in i.apps})
