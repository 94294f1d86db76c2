"""What the runtime (worker, reconciler, internal reads) needs from storage, one port per
aggregate: app runtimes (desired state), unit records, the route table, leases and
autoscale settings. ``mongo/`` and ``memory/`` implement them; ``tests/contract_runtime.py``
holds the suite both pass.

Each write is one atomic operation on one document. An app's runtime is written only by
the holder of the app's lease (``LeaseStore``), and ``save`` also checks the revision it
read, so a worker that lost its lease cannot overwrite a newer state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.domain.routes import Route
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.units import Unit


class RuntimeStore(Protocol):
    def get(self, app: str) -> AppRuntime | None: ...
    def get_many(self, apps: Iterable[str]) -> dict[str, AppRuntime]: ...  # one query; those found
    def create(self, runtime: AppRuntime) -> bool: ...  # False when the app has one
    def save(self, runtime: AppRuntime) -> bool:
        """Replace it if its stored revision is still ``runtime.revision`` (then bump
        ``runtime.revision``); False when someone saved in between."""
        ...

    def delete(self, app: str) -> bool: ...
    def names(self) -> list[str]: ...  # sorted
    def all(self) -> list[AppRuntime]: ...  # by name; one query (the reconciler's pass)


class UnitStore(Protocol):
    def put(self, unit: Unit) -> None: ...  # insert or replace by id
    def get(self, unit_id: str) -> Unit | None: ...
    def of_app(self, app: str) -> list[Unit]: ...  # oldest first
    def of_apps(self, apps: Iterable[str]) -> dict[str, list[Unit]]: ...  # every app asked
    def all(self) -> list[Unit]: ...
    def update(self, unit_id: str, fields: dict[str, Any]) -> bool: ...
    def delete(self, unit_id: str) -> bool: ...


class RouteStore(Protocol):
    def get(self, app: str) -> Route | None: ...
    def all(self) -> list[Route]: ...  # by app name
    def put(self, route: Route) -> Route | None:
        """Store it with the table's next ``seq`` when it differs from the stored one;
        the stored route, or None when nothing changed."""
        ...

    def delete(self, app: str) -> int | None: ...  # the removal's seq, None if absent
    def seq(self) -> int: ...  # the table's current seq


@dataclass(frozen=True)
class Lease:
    key: str
    holder: str  # unique per lease taker (process and thread)
    host: str
    pid: int
    expires: datetime


class LeaseStore(Protocol):
    def acquire(self, lease: Lease, now: datetime) -> bool:
        """Take the lease if free, expired or already ours (then extend it)."""
        ...

    def take_over(self, lease: Lease, previous_holder: str) -> bool:
        """Take it from ``previous_holder`` (known dead) if it still holds it."""
        ...

    def renew(self, key: str, holder: str, expires: datetime) -> bool: ...
    def release(self, key: str, holder: str) -> None: ...
    def get(self, key: str) -> Lease | None: ...


class AutoscaleStore(Protocol):
    def get(self, app: str) -> list[AutoscaleSpec]: ...  # by process
    def put(self, app: str, spec: AutoscaleSpec) -> None: ...  # replaces the process's
    def remove(self, app: str, process: str) -> bool: ...
    def all(self) -> dict[str, list[AutoscaleSpec]]: ...
    def delete_app(self, app: str) -> None: ...


@dataclass(frozen=True)
class RuntimeStores:
    runtimes: RuntimeStore
    units: UnitStore
    routes: RouteStore
    leases: LeaseStore
    autoscale: AutoscaleStore
