"""The read side: service list, instance list, service info (catalog.md §1.1, §2.4,
§2.7). Listings are filtered by the caller's grants, so no route needs a fixed
permission; what each shows follows tsuru's queries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from services.catalog.domain.models import Service, ServiceInstance
from services.catalog.operations import lookup
from services.catalog.operations.deps import Deps
from shared import requestid
from shared.identity import Identity
from shared.permissions import scope

MAX_PARALLEL = 8  # info calls in flight for one service info request


@dataclass(frozen=True)
class ServiceEntry:
    """One ServiceModel (catalog.md §a.3); ``instances`` None where Go writes null."""

    service: str
    instances: list[ServiceInstance] | None
    with_plans: bool = False  # GET /services/instances fills ``plans``


def _filters(identity: Identity, scheme: str, ctx_type: str) -> tuple[
    list[str] | None, list[str] | None
]:  # fmt: skip
    """tsuru's filters for a listing: (teams, names), both None for a global grant."""
    teams: list[str] = []
    names: list[str] = []
    for t, v in scope(identity, scheme):
        if t == "global":
            return None, None
        if t == "team":
            teams.append(v)
        elif t == ctx_type:
            names.append(v)
    return teams, names


def services(deps: Deps, identity: Identity) -> list[ServiceEntry]:
    """GET /services: services the caller administers (``service.read`` in their owner
    teams or names), each with all its instances, then every broker's services."""
    teams, names = _filters(identity, "service.read", "service")
    listed = deps.stores.services.administered(teams, names) + lookup.brokered_services(deps)
    by_service: dict[str, list[ServiceInstance]] = {}
    for inst in deps.stores.instances.of_services([s.name for s in listed]):
        by_service.setdefault(inst.service_name, []).append(inst)
    return [ServiceEntry(s.name, by_service.get(s.name)) for s in listed]


def _readable_instances(
    deps: Deps, identity: Identity, *, app: str = "", service: str = ""
) -> list[ServiceInstance]:
    teams: list[str] | None = []
    names: list[str] | None = []
    for t, v in scope(identity, "service-instance.read"):
        if t == "global":
            teams = names = None
            break
        if t == "team":
            teams.append(v)  # type: ignore[union-attr]
        elif t == "service-instance":
            svc, _, inst = v.partition("/")
            # tsuru 1.11: the listing of all instances ignores the service part.
            if inst and (not service or svc == service):
                names.append(inst)  # type: ignore[union-attr]
    return deps.stores.instances.find(teams=teams, names=names, app=app, service=service)


def instances(deps: Deps, identity: Identity, app: str = "") -> list[ServiceEntry]:
    """GET /services/instances: the services the caller may consume, sorted by name,
    each with the instances the caller may read."""
    found = _readable_instances(deps, identity, app=app)
    teams, names = _filters(identity, "service.read", "service")
    visible: list[Service] = deps.stores.services.consumable(teams, names)
    visible += lookup.brokered_services(deps)
    entries: dict[str, list[ServiceInstance]] = {s.name: [] for s in visible}
    for inst in found:
        if inst.service_name in entries:
            entries[inst.service_name].append(inst)
    return [ServiceEntry(name, entries[name], with_plans=True) for name in sorted(entries)]


@dataclass(frozen=True)
class InstanceSummary:
    instance: ServiceInstance
    info: dict[str, str] | None  # None: the info call failed


def service_info(deps: Deps, identity: Identity, name: str) -> list[InstanceSummary]:
    """GET /services/{name}: the caller's readable instances of the service, each with
    the label/value info its API gives (one call per instance, in parallel)."""
    lookup.service(deps, name)
    found = _readable_instances(deps, identity, service=name)
    if not found:
        return []
    with ThreadPoolExecutor(min(MAX_PARALLEL, len(found))) as pool:
        infos = list(pool.map(requestid.carried(lambda i: _info(deps, i)), found))
    return [InstanceSummary(i, info) for i, info in zip(found, infos, strict=True)]


def _info(deps: Deps, inst: ServiceInstance) -> dict[str, str] | None:
    try:
        client, ctx = lookup.instance_client(deps, inst)
        return {d.get("label", ""): d.get("value", "") for d in client.info(inst, ctx)}
    except Exception:
        return None
