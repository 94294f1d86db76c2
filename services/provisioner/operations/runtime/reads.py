"""What the internal routes read or change outside commands: units of apps (for tsuru's
Unit JSON), unit agent reports, the route table, autoscale settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.provisioner.domain.autoscale import AutoscaleSpec, validate
from services.provisioner.domain.routes import Route
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.runtime_errors import InvalidCommand, UnitNotFound
from services.provisioner.domain.units import Unit, check_status, find_prefix
from services.provisioner.storage.runtime_ports import RuntimeStores

MAX_APPS = 1000


@dataclass(frozen=True)
class AppUnits:
    """An app's units with what their JSON needs from the app (platform, routability)."""

    app: str
    units: list[Unit]
    platform: str = ""
    routable: frozenset[tuple[str, int]] = frozenset()  # (web process, version) routed


def _routed(rt: AppRuntime | None) -> frozenset[tuple[str, int]]:
    if rt is None:
        return frozenset()
    found = set()
    for version in rt.routable:
        release = rt.releases.get(version)
        if release is not None and release.web:
            found.add((release.web, version))
    return frozenset(found)


def units_of(stores: RuntimeStores, app: str) -> AppUnits:
    rt = stores.runtimes.get(app)
    return AppUnits(app, stores.units.of_app(app), rt.spec.platform if rt else "", _routed(rt))


def units_of_apps(stores: RuntimeStores, apps: Iterable[str]) -> list[AppUnits]:
    asked = list(apps)
    if len(asked) > MAX_APPS:
        raise InvalidCommand(f"at most {MAX_APPS} apps per call")
    names = list(dict.fromkeys(asked))
    found = stores.units.of_apps(names)
    # The runtimes of the apps with units, in one query (a list page of undeployed apps
    # is one query in all; a page of deployed ones two, not one per app).
    runtimes = stores.runtimes.get_many(n for n in names if found.get(n))
    result = []
    for name in names:
        rt = runtimes.get(name)
        result.append(
            AppUnits(name, found.get(name, []), rt.spec.platform if rt else "", _routed(rt))
        )
    return result


def set_unit_status(stores: RuntimeStores, app: str, unit: str, status: object) -> None:
    """tsuru's SetUnitStatus: the first unit whose id starts with ``unit``. The process
    backend reports statuses itself, so an agent's report changes nothing (tsuru's
    provisioners without UnitStatusProvisioner do the same)."""
    check_status(status)
    if find_prefix(stores.units.of_app(app), unit) is None:
        raise UnitNotFound(unit)


def register_unit(stores: RuntimeStores, app: str, hostname: str, custom_data: object) -> None:
    if custom_data is not None and not isinstance(custom_data, Mapping):
        raise InvalidCommand("customdata must be an object")
    found = find_prefix(stores.units.of_app(app), hostname) if hostname else None
    if found is None:
        raise UnitNotFound(hostname)
    stores.units.update(found.id, {"registered": True, "custom_data": dict(custom_data or {})})


def node_status(
    stores: RuntimeStores, reported: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``POST /node/status``: which reported units exist (statuses come from the backend)."""
    answer = []
    for item in reported:
        uid = item.get("ID") if isinstance(item, Mapping) else None
        if not isinstance(uid, str):
            continue
        answer.append({"ID": uid, "Found": bool(uid) and stores.units.get(uid) is not None})
    return answer


def route_of(stores: RuntimeStores, app: str) -> Route | None:
    return stores.routes.get(app)


def route_table(stores: RuntimeStores) -> tuple[int, list[Route]]:
    seq = stores.routes.seq()
    return seq, stores.routes.all()


def autoscale_of(stores: RuntimeStores, app: str) -> list[AutoscaleSpec]:
    return stores.autoscale.get(app)


def set_autoscale(stores: RuntimeStores, app: str, body: Mapping[str, Any]) -> AutoscaleSpec:
    spec = AutoscaleSpec.from_json(body.get("spec"))
    quota = body.get("quota_limit", 0)
    plan = body.get("plan") or {}
    cpumilli = plan.get("cpumilli", 0) if isinstance(plan, Mapping) else 0
    if not isinstance(quota, int) or not isinstance(cpumilli, int):
        raise InvalidCommand("quota_limit and plan.cpumilli must be integers")
    validate(spec, quota, cpumilli)
    stores.autoscale.put(app, spec)
    return spec


def remove_autoscale(stores: RuntimeStores, app: str, process: str) -> None:
    stores.autoscale.remove(app, process)
