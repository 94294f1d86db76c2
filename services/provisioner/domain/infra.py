"""The rest of the catalogue (provisioning.md §2d-§2j): clusters, volumes, IaaS machines
and templates, install hosts, node healing, the node autoscaler, node containers and
docker log configs. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Cluster:
    name: str
    provisioner: str
    addresses: list[str] = field(default_factory=list)
    cacert: bytes = b""
    clientcert: bytes = b""
    clientkey: bytes = b""
    pools: list[str] = field(default_factory=list)
    custom_data: dict[str, str] = field(default_factory=dict)
    default: bool = False
    local: bool = False
    kube_config: dict[str, Any] | None = None
    http_proxy: str = ""


@dataclass(frozen=True)
class BindID:
    app: str
    mountpoint: str
    volume: str


@dataclass(frozen=True)
class VolumeBind:
    id: BindID
    readonly: bool = False


@dataclass
class Volume:
    name: str
    pool: str
    team_owner: str
    plan: str
    plan_opts: dict[str, str] = field(default_factory=dict)
    opts: dict[str, str] | None = None
    status: str = ""


@dataclass(frozen=True)
class Machine:
    id: str
    iaas: str
    status: str = ""
    address: str = ""
    port: int = 0
    protocol: str = ""
    creation_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateEntry:
    name: str
    value: str


@dataclass
class Template:
    name: str
    iaas: str
    data: list[TemplateEntry] = field(default_factory=list)


@dataclass(frozen=True)
class InstallHost:
    name: str
    driver_name: str = ""
    driver: dict[str, Any] = field(default_factory=dict)
    ssh_private_key: str = ""
    ca_cert: str = ""
    ca_private_key: str = ""


HEALING_FIELDS = ("Enabled", "MaxTimeSinceSuccess", "MaxUnresponsiveTime")


@dataclass(frozen=True)
class HealingConfig:
    """One pool's node-healing entry (``""``: the base); None = not set."""

    enabled: bool | None = None
    max_time_since_success: int | None = None
    max_unresponsive_time: int | None = None


@dataclass(frozen=True)
class HealingEvent:
    id: str
    action: str  # node-healing | container-healing
    start: datetime
    end: datetime | None
    reason: str = ""
    successful: bool = False
    error: str = ""
    failing: dict[str, Any] = field(default_factory=dict)
    created: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class AutoscaleRule:
    metadata_filter: str  # the pool; "" = the rule of pools without their own
    enabled: bool = True
    max_container_count: int = 0
    scale_down_ratio: float = 0.0
    max_memory_ratio: float = 0.0
    prevent_rebalance: bool = False


@dataclass(frozen=True)
class AutoscaleEvent:
    id: str
    pool: str
    action: str  # add | remove | rebalance | ""
    reason: str
    start: datetime
    end: datetime
    successful: bool
    error: str = ""
    log: str = ""
    nodes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class LogConfig:
    driver: str = ""
    opts: dict[str, str] = field(default_factory=dict)
