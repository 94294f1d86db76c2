"""What the provisioner operations need from storage, one port per aggregate.
``mongo/`` and ``memory/`` implement them; ``tests/contract.py`` holds the one suite
both pass.

Every rule that could race is one atomic write on one document: the default pool and
the default plan are single "flag" documents (claimed by insert, moved by replace), so
two concurrent creations can never leave two defaults; versions of a platform come
from an atomic counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.provisioner.domain.infra import (
    AutoscaleEvent,
    AutoscaleRule,
    BindID,
    Cluster,
    HealingConfig,
    HealingEvent,
    InstallHost,
    LogConfig,
    Machine,
    Template,
    Volume,
    VolumeBind,
)
from services.provisioner.domain.models import (
    Constraint,
    DynamicRouter,
    HealthBatch,
    Node,
    Plan,
    Platform,
    PlatformVersion,
    Pool,
)


class PoolStore(Protocol):
    def add(self, pool: Pool) -> None: ...  # PoolExists; ``pool.default`` is ignored
    def get(self, name: str) -> Pool | None: ...
    def all(self) -> list[Pool]: ...  # insertion order
    def default_name(self) -> str | None: ...
    def claim_default(self, name: str, *, force: bool) -> str | None:
        """Make ``name`` the default pool; returns the previous default (None if there was
        none). Without ``force`` another existing default raises DefaultPoolExists."""
        ...

    def release_default(self, name: str) -> bool: ...  # only if ``name`` is the default
    def set_labels(self, name: str, labels: dict[str, str]) -> bool: ...
    def set_provisioner(self, name: str, provisioner: str) -> bool: ...
    def delete(self, name: str) -> bool: ...  # also releases the default flag


class ConstraintStore(Protocol):
    def get(self, pool_expr: str, field: str) -> Constraint | None: ...
    def all(self) -> list[Constraint]: ...  # insertion order
    def for_field(self, field: str) -> list[Constraint]: ...
    def set(self, constraint: Constraint) -> None:
        """Upsert replacing values and blacklist; no values (or one empty) deletes it."""
        ...

    def append(self, pool_expr: str, field: str, values: list[str]) -> None:
        """Add values (set semantics), creating a whitelist constraint if missing."""
        ...

    def remove_values(self, pool_expr: str, field: str, values: list[str]) -> bool: ...
    def delete(self, pool_expr: str, field: str) -> bool: ...


class PlanStore(Protocol):
    def add(self, plan: Plan) -> None: ...  # PlanExists; ``default`` moves the flag to it
    def get(self, name: str) -> Plan | None: ...
    def all(self) -> list[Plan]: ...  # sorted by name
    def default(self) -> Plan | None: ...
    def delete(self, name: str) -> bool: ...


class PlatformStore(Protocol):
    def add(self, platform: Platform) -> None: ...  # PlatformExists (versions ignored)
    def get(self, name: str) -> Platform | None: ...
    def all(self) -> list[Platform]: ...  # insertion order
    def set_disabled(self, name: str, disabled: bool) -> bool: ...
    def next_version(self, name: str) -> int:
        """A new version number for a build (1, 2, ...; never given twice); 0 when the
        platform does not exist."""
        ...

    def add_version(self, name: str, version: PlatformVersion) -> bool: ...
    def drop_version(self, name: str, version: int) -> bool: ...  # a failed build's
    def delete(self, name: str) -> bool: ...


class RouterStore(Protocol):
    """Dynamic routers (``POST /routers``); the built-in ones come from configuration."""

    def add(self, router: DynamicRouter) -> None: ...  # DynamicRouterExists
    def get(self, name: str) -> DynamicRouter | None: ...
    def all(self) -> list[DynamicRouter]: ...  # sorted by name
    def replace(self, router: DynamicRouter) -> bool: ...
    def delete(self, name: str) -> bool: ...


class NodeStore(Protocol):
    def add(self, node: Node) -> None: ...  # NodeExists (naming the owner's provisioner)
    def get(self, address: str) -> Node | None: ...
    def all(self) -> list[Node]: ...  # insertion order
    def by_pool(self, pool: str) -> list[Node]: ...
    def update(self, address: str, *, pool: str, metadata: dict[str, str], status: str) -> bool: ...
    def report(self, node: Node, when: datetime) -> None:
        """Upsert a node a backend reports about itself (the runtime calls it for the
        process backend's node): pool, status and metadata as given, added if new."""
        ...

    def set_status(self, address: str, status: str) -> bool:
        """The runtime's view of a registered node (``ready``/``error``); a ``disabled``
        node keeps that status (only the API enables it). False when nothing changed."""
        ...

    def record_health(self, address: str, batch: HealthBatch, *, keep: int = 10) -> bool:
        """Append a batch of checks (the newest ``keep`` are kept); updates
        ``last_update`` and, when every check passed, ``last_success``."""
        ...

    def delete(self, address: str) -> bool: ...


class ClusterStore(Protocol):
    def add(self, cluster: Cluster) -> None: ...  # ClusterExists
    def get(self, name: str) -> Cluster | None: ...
    def all(self) -> list[Cluster]: ...  # insertion order
    def replace(self, cluster: Cluster) -> bool: ...
    def take_pools(self, name: str, provisioner: str, pools: list[str]) -> None:
        """Remove ``pools`` from every other cluster of ``provisioner``."""
        ...

    def clear_default(self, name: str, provisioner: str) -> None:
        """``default`` off on every other cluster of ``provisioner``."""
        ...

    def delete(self, name: str) -> bool: ...


class VolumeStore(Protocol):
    def add(self, volume: Volume) -> None: ...  # VolumeExists
    def get(self, name: str) -> Volume | None: ...
    def all(self) -> list[Volume]: ...  # insertion order
    def replace(self, volume: Volume) -> bool: ...
    def delete(self, name: str) -> bool: ...
    def bind(self, bind: VolumeBind) -> None: ...  # VolumeAlreadyBound (same app+mountpoint+volume)
    def unbind(self, bind_id: BindID) -> bool: ...
    def binds(self, volume: str) -> list[VolumeBind]: ...
    def binds_of_app(self, app: str) -> list[VolumeBind]: ...


class MachineStore(Protocol):
    def add(self, machine: Machine) -> None: ...
    def get(self, machine_id: str) -> Machine | None: ...
    def all(self) -> list[Machine]: ...
    def delete(self, machine_id: str) -> bool: ...


class TemplateStore(Protocol):
    def add(self, template: Template) -> None: ...  # TemplateExists
    def get(self, name: str) -> Template | None: ...
    def all(self) -> list[Template]: ...  # sorted by name
    def replace(self, template: Template) -> bool: ...
    def delete(self, name: str) -> bool: ...


class InstallHostStore(Protocol):
    def add(self, host: InstallHost) -> None: ...  # InstallHostExists
    def get(self, name: str) -> InstallHost | None: ...
    def all(self) -> list[InstallHost]: ...


class HealingStore(Protocol):
    def configs(self) -> dict[str, HealingConfig]: ...  # pool ("" = base) -> entry
    def merge(self, pool: str, changes: dict[str, object]) -> None:
        """Set the given fields (``HEALING_FIELDS`` names) of the pool's entry."""
        ...

    def unset(self, pool: str, fields: list[str]) -> None: ...
    def delete(self, pool: str) -> bool: ...
    def add_event(self, event: HealingEvent) -> None: ...
    def events(self, action: str = "", limit: int = 100) -> list[HealingEvent]: ...  # newest first


class NodeAutoscaleStore(Protocol):
    def rules(self) -> list[AutoscaleRule]: ...  # sorted by metadata filter
    def put_rule(self, rule: AutoscaleRule) -> None: ...  # upsert by metadata filter
    def delete_rule(self, metadata_filter: str) -> bool: ...
    def add_event(self, event: AutoscaleEvent) -> None: ...
    def events(self, skip: int = 0, limit: int = 100) -> list[AutoscaleEvent]: ...  # newest first


class NodeContainerStore(Protocol):
    """Node container configs: one JSON object per (name, pool); pool "" is the base."""

    def all(self) -> dict[str, dict[str, dict[str, Any]]]: ...  # name -> pool -> config
    def get(self, name: str) -> dict[str, dict[str, Any]]: ...  # pool -> config ({} if none)
    def put(self, name: str, pool: str, config: dict[str, Any]) -> None: ...
    def delete(self, name: str, pool: str) -> bool: ...


class LogConfigStore(Protocol):
    def all(self) -> dict[str, LogConfig]: ...  # pool ("" = base) -> config
    def put(self, pool: str, config: LogConfig) -> None: ...


class SeedStore(Protocol):
    """Which start-up seeds already ran (once per stack, whatever restarts follow)."""

    def done(self, name: str) -> bool: ...
    def mark(self, name: str) -> None: ...


@dataclass
class Stores:
    """Every store of the context, made together (``mongo_stores``/``memory_stores``)."""

    pools: PoolStore
    constraints: ConstraintStore
    plans: PlanStore
    platforms: PlatformStore
    routers: RouterStore
    nodes: NodeStore
    seeds: SeedStore
    clusters: ClusterStore
    volumes: VolumeStore
    machines: MachineStore
    templates: TemplateStore
    install_hosts: InstallHostStore
    healing: HealingStore
    node_autoscale: NodeAutoscaleStore
    node_containers: NodeContainerStore
    log_configs: LogConfigStore
