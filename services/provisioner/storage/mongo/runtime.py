"""The runtime's MongoDB stores (database ``<namespace>_provisioner``)."""

from __future__ import annotations

from services.provisioner.storage.mongo import autoscale, leases, routes, runtimes, units
from services.provisioner.storage.runtime_ports import RuntimeStores
from shared.mongo import Db, Index

RUNTIME_INDEXES: list[Index] = [*runtimes.INDEXES, *units.INDEXES, *routes.INDEXES,
                                *leases.INDEXES, *autoscale.INDEXES]  # fmt: skip


def mongo_runtime_stores(db: Db) -> RuntimeStores:
    return RuntimeStores(
        runtimes=runtimes.MongoRuntimeStore(db),
        units=units.MongoUnitStore(db),
        routes=routes.MongoRouteStore(db),
        leases=leases.MongoLeaseStore(db),
        autoscale=autoscale.MongoAutoscaleStore(db),
    )
