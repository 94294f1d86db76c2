"""Finding services (stored or offered by a broker), instances, and the client that
talks to a service's API (catalog.md §c.1, §d.2)."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.catalog.domain import errors
from services.catalog.domain.models import (
    BROKER_SEP,
    PRODUCTION,
    Broker,
    Catalog,
    CatalogService,
    PoolInfo,
    Service,
    ServiceInstance,
    is_brokered,
    split_brokered,
)
from services.catalog.domain.rules import endpoint_url
from services.catalog.operations.deps import CallContext, Deps, ServiceClient

log = logging.getLogger(__name__)


def catalog_of(deps: Deps, broker: Broker) -> Catalog:
    """The broker's catalog from the cache, or fetched and cached for its TTL."""
    now = deps.clock()
    cached = deps.stores.catalogs.load(broker.name, now)
    if cached is not None:
        return cached
    catalog = deps.clients.catalog(broker)
    ttl = broker.config.cache_expiration_seconds or deps.config.catalog_ttl
    try:
        deps.stores.catalogs.save(broker.name, catalog, now + timedelta(seconds=ttl))
    except Exception:  # a cache that cannot be written still served this request
        log.exception("could not cache the catalog of broker %s", broker.name)
    return catalog


def brokered_service(deps: Deps, name: str) -> tuple[Service, Broker, CatalogService]:
    broker_name, catalog_name = split_brokered(name)
    broker = deps.stores.brokers.get(broker_name)
    if broker is None:
        raise errors.BrokerNotFound()
    entry = catalog_of(deps, broker).service(catalog_name)
    if entry is None:
        raise errors.ServiceNotFound()
    return Service(name=name, doc=entry.description, broker=broker.name), broker, entry


def service(deps: Deps, name: str) -> Service:
    if is_brokered(name):
        return brokered_service(deps, name)[0]
    found = deps.stores.services.get(name)
    if found is None:
        raise errors.ServiceNotFound()
    return found


def brokered_services(deps: Deps) -> list[Service]:
    """Every broker's catalog services, broker by broker; a broker that fails is skipped
    (tsuru logs it and lists the others)."""
    out: list[Service] = []
    for broker in deps.stores.brokers.all():
        try:
            catalog = catalog_of(deps, broker)
        except Exception as exc:
            log.warning("broker %s: cannot get its catalog: %s", broker.name, exc)
            continue
        out += [
            Service(
                name=f"{broker.name}{BROKER_SEP}{s.name}", doc=s.description, broker=broker.name
            )
            for s in catalog.services
        ]
    return out


def instance(deps: Deps, service_name: str, name: str) -> ServiceInstance:
    found = deps.stores.instances.get(service_name, name)
    if found is None:
        raise errors.InstanceNotFound()
    return found


def pool_info(deps: Deps, pool: str) -> PoolInfo | None:
    """The instance's pool with its cluster; an instance without pool has none."""
    if not pool:
        return None
    info = deps.pools.get(pool)
    if info is None:
        raise errors.PoolNotFound()
    return info


def endpoint(svc: Service, pool: PoolInfo | None = None) -> str:
    """tsuru's getClientForPool: the endpoint named after the pool's cluster, then
    ``production``."""
    names = [pool.cluster.name, PRODUCTION] if pool and pool.cluster else [PRODUCTION]
    for name in names:
        if name in svc.endpoint:
            return endpoint_url(svc.endpoint[name])
    raise errors.UnknownEndpoint(names[-1])


def client(deps: Deps, svc: Service, pool: PoolInfo | None = None) -> ServiceClient:
    """The service API's client at ``endpoint``, or a broker service's OSB client."""
    if svc.broker:
        _, broker, entry = brokered_service(deps, svc.name)
        return deps.clients.broker(broker, entry)
    return deps.clients.endpoint(svc, endpoint(svc, pool))


def instance_client(
    deps: Deps, inst: ServiceInstance, ctx: CallContext | None = None
) -> tuple[ServiceClient, CallContext]:
    """The client of the instance's service and the call context with its pool."""
    svc = service(deps, inst.service_name)
    pool = pool_info(deps, inst.pool)
    base = ctx or CallContext()
    return client(deps, svc, pool), CallContext(base.user, base.event_id, base.request_id, pool)
