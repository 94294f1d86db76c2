"""MongoDB stores of the provisioner context (database ``<namespace>_provisioner``), one
module per aggregate. Natural keys are ``_id`` (pool, plan, platform, router name, node
address) so uniqueness races end in DuplicateKeyError, mapped to the domain's Conflict
errors. Every field a query filters or sorts on is indexed.
"""

from __future__ import annotations

from services.provisioner.storage.mongo import (
    clusters,
    constraints,
    healing,
    iaas,
    nodeautoscale,
    nodecontainers,
    nodes,
    plans,
    platforms,
    pools,
    routers,
    volumes,
)
from services.provisioner.storage.mongo.common import MongoSeedStore
from services.provisioner.storage.ports import Stores
from shared.mongo import Db, Index

INDEXES: list[Index] = [*pools.INDEXES, *constraints.INDEXES, *plans.INDEXES,
                        *platforms.INDEXES, *routers.INDEXES, *nodes.INDEXES,
                        *clusters.INDEXES, *volumes.INDEXES, *iaas.INDEXES, *healing.INDEXES,
                        *nodeautoscale.INDEXES, *nodecontainers.INDEXES]  # fmt: skip


def mongo_stores(db: Db) -> Stores:
    return Stores(
        pools=pools.MongoPoolStore(db),
        constraints=constraints.MongoConstraintStore(db),
        plans=plans.MongoPlanStore(db),
        platforms=platforms.MongoPlatformStore(db),
        routers=routers.MongoRouterStore(db),
        nodes=nodes.MongoNodeStore(db),
        seeds=MongoSeedStore(db),
        clusters=clusters.MongoClusterStore(db),
        volumes=volumes.MongoVolumeStore(db),
        machines=iaas.MongoMachineStore(db),
        templates=iaas.MongoTemplateStore(db),
        install_hosts=iaas.MongoInstallHostStore(db),
        healing=healing.MongoHealingStore(db),
        node_autoscale=nodeautoscale.MongoNodeAutoscaleStore(db),
        node_containers=nodecontainers.MongoNodeContainerStore(db),
        log_configs=nodecontainers.MongoLogConfigStore(db),
    )
