"""In-memory runtime stores: fakes held to the Mongo stores' contract suite
(tests/contract_runtime.py). Records are copied in and out, as a database would."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.domain.routes import Route
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.units import MUTABLE_FIELDS, Unit
from services.provisioner.storage.runtime_ports import Lease, RuntimeStores


class MemoryRuntimeStore:
    def __init__(self) -> None:
        self._docs: dict[str, AppRuntime] = {}
        self._lock = threading.Lock()

    def get(self, app: str) -> AppRuntime | None:
        with self._lock:
            found = self._docs.get(app)
            return copy.deepcopy(found) if found else None

    def get_many(self, apps: Iterable[str]) -> dict[str, AppRuntime]:
        with self._lock:
            return {a: copy.deepcopy(self._docs[a]) for a in apps if a in self._docs}

    def create(self, runtime: AppRuntime) -> bool:
        with self._lock:
            if runtime.app in self._docs:
                return False
            self._docs[runtime.app] = copy.deepcopy(runtime)
            return True

    def save(self, runtime: AppRuntime) -> bool:
        with self._lock:
            current = self._docs.get(runtime.app)
            if current is None or current.revision != runtime.revision:
                return False
            stored = copy.deepcopy(runtime)
            stored.revision += 1
            self._docs[runtime.app] = stored
            runtime.revision += 1
            return True

    def delete(self, app: str) -> bool:
        with self._lock:
            return self._docs.pop(app, None) is not None

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._docs)

    def all(self) -> list[AppRuntime]:
        with self._lock:
            return [copy.deepcopy(self._docs[k]) for k in sorted(self._docs)]


class MemoryUnitStore:
    def __init__(self) -> None:
        self._units: dict[str, Unit] = {}
        self._lock = threading.Lock()

    def put(self, unit: Unit) -> None:
        with self._lock:
            self._units[unit.id] = copy.deepcopy(unit)

    def get(self, unit_id: str) -> Unit | None:
        with self._lock:
            return copy.deepcopy(self._units.get(unit_id))

    def _sorted(self, units: Iterable[Unit]) -> list[Unit]:
        # Units without a creation date first, as MongoDB sorts nulls first.
        return sorted(
            (copy.deepcopy(u) for u in units),
            key=lambda u: (u.app, u.created_at is not None, u.created_at or datetime.min),
        )

    def of_app(self, app: str) -> list[Unit]:
        with self._lock:
            return self._sorted(u for u in self._units.values() if u.app == app)

    def of_apps(self, apps: Iterable[str]) -> dict[str, list[Unit]]:
        names = list(dict.fromkeys(apps))
        found: dict[str, list[Unit]] = {name: [] for name in names}
        for unit in self.all():
            if unit.app in found:
                found[unit.app].append(unit)
        return found

    def all(self) -> list[Unit]:
        with self._lock:
            return self._sorted(self._units.values())

    def update(self, unit_id: str, fields: dict[str, Any]) -> bool:
        unknown = set(fields) - set(MUTABLE_FIELDS)
        if unknown:
            raise ValueError(f"not unit fields: {sorted(unknown)}")
        with self._lock:
            unit = self._units.get(unit_id)
            if unit is None:
                return False
            self._units[unit_id] = replace(unit, **copy.deepcopy(fields))
            return True

    def delete(self, unit_id: str) -> bool:
        with self._lock:
            return self._units.pop(unit_id, None) is not None


class MemoryRouteStore:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def get(self, app: str) -> Route | None:
        with self._lock:
            return self._routes.get(app)

    def all(self) -> list[Route]:
        with self._lock:
            return [self._routes[k] for k in sorted(self._routes)]

    def put(self, route: Route) -> Route | None:
        with self._lock:
            if route.same_as(self._routes.get(route.app)):
                return None
            self._seq += 1
            stored = replace(route, seq=self._seq)
            self._routes[route.app] = stored
            return stored

    def delete(self, app: str) -> int | None:
        with self._lock:
            if self._routes.pop(app, None) is None:
                return None
            self._seq += 1
            return self._seq

    def seq(self) -> int:
        with self._lock:
            return self._seq


class MemoryLeaseStore:
    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()

    def acquire(self, lease: Lease, now: datetime) -> bool:
        with self._lock:
            held = self._leases.get(lease.key)
            if held is None or held.expires < now or held.holder == lease.holder:
                self._leases[lease.key] = lease
                return True
            return False

    def take_over(self, lease: Lease, previous_holder: str) -> bool:
        with self._lock:
            held = self._leases.get(lease.key)
            if held is None or held.holder != previous_holder:
                return False
            self._leases[lease.key] = lease
            return True

    def renew(self, key: str, holder: str, expires: datetime) -> bool:
        with self._lock:
            held = self._leases.get(key)
            if held is None or held.holder != holder:
                return False
            self._leases[key] = replace(held, expires=expires)
            return True

    def release(self, key: str, holder: str) -> None:
        with self._lock:
            held = self._leases.get(key)
            if held is not None and held.holder == holder:
                del self._leases[key]

    def get(self, key: str) -> Lease | None:
        with self._lock:
            return self._leases.get(key)


class MemoryAutoscaleStore:
    def __init__(self) -> None:
        self._specs: dict[tuple[str, str], AutoscaleSpec] = {}
        self._lock = threading.Lock()

    def get(self, app: str) -> list[AutoscaleSpec]:
        with self._lock:
            return [s for (a, _), s in sorted(self._specs.items()) if a == app]

    def put(self, app: str, spec: AutoscaleSpec) -> None:
        with self._lock:
            self._specs[(app, spec.process)] = spec

    def remove(self, app: str, process: str) -> bool:
        with self._lock:
            return self._specs.pop((app, process), None) is not None

    def all(self) -> dict[str, list[AutoscaleSpec]]:
        found: dict[str, list[AutoscaleSpec]] = {}
        with self._lock:
            for (app, _), spec in sorted(self._specs.items()):
                found.setdefault(app, []).append(spec)
        return found

    def delete_app(self, app: str) -> None:
        with self._lock:
            for key in [k for k in self._specs if k[0] == app]:
                del self._specs[key]


def memory_runtime_stores() -> RuntimeStores:
    return RuntimeStores(
        runtimes=MemoryRuntimeStore(),
        units=MemoryUnitStore(),
        routes=MemoryRouteStore(),
        leases=MemoryLeaseStore(),
        autoscale=MemoryAutoscaleStore(),
    )
