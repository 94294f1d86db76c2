"""The collaborators of the catalog use cases, passed to each as one bundle (``deps``).

``bootstrap.connect`` makes the real one, ``tests/fakes.py`` the fake one. The ports
below are what the operations need from the outside: service APIs and brokers
(``ServiceClients``), the apps, provisioner and auth contexts, and the proxy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.catalog.domain.models import (
    AppUnit,
    AppView,
    Broker,
    BrokerData,
    Catalog,
    CatalogService,
    Plan,
    PoolInfo,
    Service,
    ServiceInstance,
)
from services.catalog.storage.ports import Stores
from shared.bus import Publisher
from shared.events import Recorder
from shared.events.model import now


@dataclass(frozen=True)
class CallContext:
    """What a call to a service API carries besides its form (catalog.md §c.2)."""

    user: str = ""  # the event owner: X-Tsuru-User and the form's ``user``
    event_id: str = ""  # X-Tsuru-Eventid and the form's ``eventid``
    request_id: str = ""
    pool: PoolInfo | None = None  # the instance's pool: X-Tsuru-Pool-* headers


@dataclass(frozen=True)
class BindResult:
    envs: dict[str, str]
    broker_data: BrokerData | None = None


class ServiceClient(Protocol):
    """One service's API (tsuru's endpoint client) or a broker's service (OSB).

    Broker calls return the instance's new broker data for the caller to store."""

    def create(self, instance: ServiceInstance, ctx: CallContext) -> BrokerData | None: ...
    def update(self, instance: ServiceInstance, ctx: CallContext) -> BrokerData | None: ...
    def destroy(self, instance: ServiceInstance, ctx: CallContext) -> None: ...
    def bind_app(
        self, instance: ServiceInstance, app: AppView, params: dict[str, Any], ctx: CallContext
    ) -> BindResult: ...
    def unbind_app(
        self, instance: ServiceInstance, app: AppView, ctx: CallContext
    ) -> BrokerData | None: ...
    def bind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None: ...
    def unbind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None: ...
    def status(self, instance: ServiceInstance, ctx: CallContext) -> str: ...
    def info(self, instance: ServiceInstance, ctx: CallContext) -> list[dict[str, str]]: ...
    def plans(self, ctx: CallContext) -> list[Plan] | None: ...  # None: the API had none


class ServiceClients(Protocol):
    def endpoint(self, service: Service, url: str) -> ServiceClient: ...
    def broker(self, broker: Broker, service: CatalogService) -> ServiceClient: ...
    def catalog(self, broker: Broker) -> Catalog: ...  # fetched from the broker


@dataclass(frozen=True)
class ProxyRequest:
    method: str
    url: str  # the service API's full URL, query included
    headers: list[tuple[str, str]]  # the client's, Authorization and hop-by-hop dropped
    body: Any  # a file-like object or bytes
    auth: tuple[str, str]  # basic auth of the service
    client_ip: str


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: Iterator[bytes]


class Proxy(Protocol):
    def forward(self, request: ProxyRequest) -> ProxyResponse: ...


class Apps(Protocol):
    """The apps context (docs/runtime.md "Service bindings")."""

    def get(self, name: str) -> AppView | None: ...
    # Each yields the messages apps streams; an Error line raises.
    def set_envs(
        self, app: str, service: str, instance: str, envs: Mapping[str, str], restart: bool
    ) -> Iterator[str]: ...
    def unset_envs(self, app: str, service: str, instance: str, restart: bool) -> Iterator[str]: ...


class Pools(Protocol):
    """The provisioner's pools (docs/runtime.md)."""

    def get(self, name: str) -> PoolInfo | None: ...
    def allowed_services(self, pool: str, names: list[str]) -> list[str] | None: ...
    def visible(self, teams: list[str] | None) -> list[str]: ...


class Teams(Protocol):
    def names(self) -> list[str]: ...


class EventStatus(Protocol):
    def running(self, event_id: str) -> bool: ...


@dataclass(frozen=True)
class Config:
    # Seconds between two runs of the bind syncer (worker).
    sync_interval: float = 300.0
    # Default TTL of a broker's cached catalog (tsuru: one hour).
    catalog_ttl: float = 3600.0


@dataclass
class Deps:
    stores: Stores
    recorder: Recorder
    publisher: Publisher
    clients: ServiceClients
    apps: Apps
    pools: Pools
    teams: Teams
    proxy: Proxy
    events: EventStatus
    config: Config = field(default_factory=Config)
    clock: Callable[[], datetime] = now
