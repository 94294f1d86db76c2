"""The provisioner's catalogue: pools and their constraints, plans, platforms,
dynamic routers and nodes (provisioning.md §2). Pure data; rules live in
``rules.py``/``constraints.py``, storage in ``storage/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The constraint fields tsuru 1.11 knows, in the order its error message lists them.
TEAM, SERVICE, ROUTER, PLAN, VOLUME_PLAN = "team", "service", "router", "plan", "volume-plan"
CONSTRAINT_FIELDS = (TEAM, SERVICE, ROUTER, PLAN, VOLUME_PLAN)


@dataclass
class Pool:
    name: str
    default: bool = False
    provisioner: str = ""  # "" = the default provisioner
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Constraint:
    """One pool constraint; unique by (pool_expr, field). Values are glob patterns."""

    pool_expr: str
    field: str
    values: tuple[str, ...]
    blacklist: bool = False


@dataclass(frozen=True)
class Plan:
    name: str
    memory: int = 0  # bytes
    swap: int = 0  # bytes
    cpumilli: int = 0
    cpushare: int = 0
    default: bool = False


@dataclass(frozen=True)
class PlatformVersion:
    """One build of a platform: its number and the image names recorded for it."""

    version: int
    images: tuple[str, ...]
    # The Dockerfile the build was made from ("" for a platform added by name only).
    dockerfile: str = ""
    created_at: datetime | None = None


@dataclass
class Platform:
    name: str
    disabled: bool = False
    versions: list[PlatformVersion] = field(default_factory=list)  # oldest first

    def images(self) -> list[str]:
        return [image for v in self.versions for image in v.images]

    def version(self, number: int) -> PlatformVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    @property
    def current(self) -> PlatformVersion | None:
        return self.versions[-1] if self.versions else None


@dataclass(frozen=True)
class DynamicRouter:
    """A router stored in the database (``POST /routers``), beside the built-in ones."""

    name: str
    type: str
    readiness_gates: tuple[str, ...] = ()
    config: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthCheck:
    name: str
    err: str = ""
    successful: bool = True


@dataclass(frozen=True)
class HealthBatch:
    time: datetime
    checks: tuple[HealthCheck, ...]


@dataclass
class Node:
    """A host units run on. ``provisioner`` is the backend that owns it (``process``:
    the machine the process backend runs on, reported by the runtime; ``docker``: an
    engine registered through the API)."""

    address: str
    provisioner: str
    pool: str = ""
    status: str = "ready"
    metadata: dict[str, str] = field(default_factory=dict)
    iaas_id: str = ""
    # Health as reported (node agents, the runtime's checks): newest batch last.
    checks: list[HealthBatch] = field(default_factory=list)
    last_success: datetime | None = None
    last_update: datetime | None = None
