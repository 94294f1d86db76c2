"""What the catalog operations need from storage, one port per aggregate. ``mongo/``
and ``memory/`` implement them; ``tests/contract.py`` holds the suite both pass.

Every rule that could race is one atomic update on one document: an app is bound to
an instance once (``add_app`` is refused when it is there), a unit is recorded once,
a consumer team is granted once. No operation needs a multi-document transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.catalog.domain.models import (
    BoundUnit,
    Broker,
    BrokerData,
    Catalog,
    PendingOp,
    Service,
    ServiceInstance,
)


class ServiceStore(Protocol):
    def add(self, service: Service) -> None: ...  # ServiceExists
    def get(self, name: str) -> Service | None: ...
    def replace_settings(
        self,
        name: str,
        *,
        username: str,
        password: str,
        endpoint: dict[str, str],
        owner_teams: list[str] | None,
    ) -> bool: ...
    def set_doc(self, name: str, doc: str) -> bool: ...
    def add_team(self, name: str, team: str) -> bool: ...  # False: absent or already there
    def remove_team(self, name: str, team: str) -> bool: ...  # False: absent or not there
    def delete(self, name: str) -> bool: ...
    # Storage order. ``None`` filters mean "no restriction" (a global grant).
    def administered(self, teams: list[str] | None, names: list[str] | None) -> list[Service]: ...
    def consumable(self, teams: list[str] | None, names: list[str] | None) -> list[Service]: ...
    def names(self) -> list[str]: ...


class InstanceStore(Protocol):
    def add(self, instance: ServiceInstance) -> None: ...  # InstanceExists
    def get(self, service: str, name: str) -> ServiceInstance | None: ...
    def count_for_service(self, service: str) -> int: ...
    # Storage order; ``teams``/``names`` None: every instance (a global grant).
    def find(
        self,
        *,
        teams: list[str] | None = None,
        names: list[str] | None = None,
        app: str = "",
        service: str = "",
    ) -> list[ServiceInstance]: ...
    def of_services(self, services: list[str]) -> list[ServiceInstance]: ...
    def add_app(self, service: str, name: str, app: str) -> bool: ...  # False: already bound
    def remove_app(self, service: str, name: str, app: str) -> bool: ...
    def add_unit(self, service: str, name: str, unit: BoundUnit) -> bool: ...  # False: there
    def remove_unit(self, service: str, name: str, unit: BoundUnit) -> bool: ...  # by unit id
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
    ) -> bool: ...  # also adds the owner to teams
    def restore(self, instance: ServiceInstance) -> bool: ...  # the update's undo
    def push_team(self, service: str, name: str, team: str) -> bool: ...  # duplicates kept
    def pull_team(self, service: str, name: str, team: str) -> bool: ...
    def set_broker_data(self, service: str, name: str, data: BrokerData | None) -> bool: ...
    def delete(self, service: str, name: str) -> bool: ...
    def bound_to(self, app: str) -> list[ServiceInstance]: ...
    def using_team(self, team: str) -> list[str]: ...  # instance names
    def bound_apps(self) -> list[str]: ...  # every app some instance is bound to, sorted
    def add_pending(self, service: str, name: str, op: PendingOp) -> bool: ...
    def remove_pending(self, service: str, name: str, event: str) -> bool: ...
    def with_pending(self) -> list[ServiceInstance]: ...


class BrokerStore(Protocol):
    def add(self, broker: Broker) -> None: ...  # BrokerExists
    def get(self, name: str) -> Broker | None: ...
    def all(self) -> list[Broker]: ...  # storage order
    def replace(self, name: str, broker: Broker) -> bool: ...  # may rename; BrokerExists
    def delete(self, name: str) -> bool: ...


class CatalogCache(Protocol):
    """Brokers' catalogs, kept for their TTL (tsuru's ServiceBrokerCatalogCache)."""

    def load(self, broker: str, now: datetime) -> Catalog | None: ...
    def save(self, broker: str, catalog: Catalog, expires: datetime) -> None: ...


@dataclass
class Stores:
    services: ServiceStore
    instances: InstanceStore
    brokers: BrokerStore
    catalogs: CatalogCache
