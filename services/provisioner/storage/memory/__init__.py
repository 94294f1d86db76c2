"""In-memory stores of the provisioner context: fakes held to the same contract suite as
the Mongo stores (tests/contract.py), one module per aggregate."""

from __future__ import annotations

from services.provisioner.storage.memory import (
    constraints,
    infra,
    nodes,
    ops,
    plans,
    platforms,
    pools,
    routers,
)
from services.provisioner.storage.memory.common import MemorySeedStore
from services.provisioner.storage.ports import Stores


def memory_stores() -> Stores:
    return Stores(
        pools=pools.MemoryPoolStore(),
        constraints=constraints.MemoryConstraintStore(),
        plans=plans.MemoryPlanStore(),
        platforms=platforms.MemoryPlatformStore(),
        routers=routers.MemoryRouterStore(),
        nodes=nodes.MemoryNodeStore(),
        seeds=MemorySeedStore(),
        clusters=infra.MemoryClusterStore(),
        volumes=infra.MemoryVolumeStore(),
        machines=infra.MemoryMachineStore(),
        templates=infra.MemoryTemplateStore(),
        install_hosts=infra.MemoryInstallHostStore(),
        healing=ops.MemoryHealingStore(),
        node_autoscale=ops.MemoryNodeAutoscaleStore(),
        node_containers=ops.MemoryNodeContainerStore(),
        log_configs=ops.MemoryLogConfigStore(),
    )
