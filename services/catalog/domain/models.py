"""The catalog's records (catalog.md §a, §b, §d): services, instances, brokers.

Plain dataclasses; storage maps them to documents, presenters to tsuru's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PRODUCTION = "production"  # the endpoint every service has; others are cluster names
BROKER_SEP = "::"  # "<broker>::<catalog service>" names a broker's service


@dataclass
class Service:
    name: str
    password: str = ""
    username: str = ""
    endpoint: dict[str, str] = field(default_factory=dict)
    owner_teams: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    doc: str = ""
    is_restricted: bool = False
    is_multi_cluster: bool = False
    disable_bind_unit: bool = False
    # A service a broker offers (never stored): its broker and catalog entry.
    broker: str = ""

    @property
    def basic_user(self) -> str:
        # tsuru: an empty username means the service's own name.
        return self.username or self.name


@dataclass(frozen=True)
class BoundUnit:
    app_name: str
    id: str
    ip: str


@dataclass
class BrokerBind:
    uuid: str
    operation_key: str = ""
    parameters: dict[str, Any] | None = None


@dataclass
class BrokerData:
    """What an OSB instance needs for later calls (tsuru's BrokerInstanceData)."""

    uuid: str
    service_id: str
    plan_id: str
    org_id: str
    space_id: str
    last_operation_key: str = ""
    binds: dict[str, BrokerBind] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingOp:
    """A bind or unbind in progress, written before its first step and removed after
    its last (or its undo): one still here after its event ended was cut short by a
    dead process, and the recovery finishes it (the app ends up unbound)."""

    op: str  # "bind" | "unbind"
    app: str
    event: str  # the operation's event id
    restart: bool = True


@dataclass
class ServiceInstance:
    name: str
    service_name: str
    id: int = 0  # tsuru's legacy numeric id: when not 0 it names the instance to the API
    plan_name: str = ""
    apps: list[str] = field(default_factory=list)
    bound_units: list[BoundUnit] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    team_owner: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    pool: str = ""
    broker_data: BrokerData | None = None
    pending: list[PendingOp] = field(default_factory=list)

    @property
    def identifier(self) -> str:
        """How service-API paths name the instance (tsuru's GetIdentifier)."""
        return str(self.id) if self.id else self.name

    @property
    def key(self) -> str:
        return f"{self.service_name}/{self.name}"


@dataclass
class BrokerAuth:
    basic_username: str | None = None  # None: no BasicAuthConfig
    basic_password: str = ""
    bearer_token: str | None = None  # None: no BearerConfig


@dataclass
class BrokerConfig:
    auth: BrokerAuth | None = None
    insecure: bool = False
    context: dict[str, Any] = field(default_factory=dict)
    cache_expiration_seconds: int = 0  # 0: the default of one hour


@dataclass
class Broker:
    name: str
    url: str
    config: BrokerConfig = field(default_factory=BrokerConfig)


@dataclass(frozen=True)
class Plan:
    name: str
    description: str
    schemas: Any = None  # OSB plan schemas (broker plans only)


@dataclass(frozen=True)
class CatalogPlan:
    id: str
    name: str
    description: str
    schemas: Any = None


@dataclass(frozen=True)
class CatalogService:
    id: str
    name: str
    description: str
    plans: tuple[CatalogPlan, ...] = ()


@dataclass(frozen=True)
class Catalog:
    services: tuple[CatalogService, ...] = ()

    def service(self, name: str) -> CatalogService | None:
        return next((s for s in self.services if s.name == name), None)


@dataclass(frozen=True)
class AppUnit:
    id: str
    ip: str


@dataclass(frozen=True)
class AppView:
    """An app as the apps context describes it to the catalog (docs/runtime.md)."""

    name: str
    teams: tuple[str, ...]
    team_owner: str
    pool: str
    addresses: tuple[str, ...] = ()
    internal_addresses: tuple[str, ...] = ()
    uuid: str = ""
    units: tuple[AppUnit, ...] = ()
    pool_info: PoolInfo | None = None  # the app's pool, looked up by the catalog for binds


@dataclass(frozen=True)
class Cluster:
    name: str
    provisioner: str
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolInfo:
    name: str
    provisioner: str
    cluster: Cluster | None = None


def is_brokered(name: str) -> bool:
    return BROKER_SEP in name


def split_brokered(name: str) -> tuple[str, str]:
    broker, _, service = name.partition(BROKER_SEP)
    return broker, service
