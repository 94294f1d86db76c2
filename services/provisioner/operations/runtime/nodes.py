"""The runtime reports the nodes its backends run units on to the catalogue (docs/runtime.md
"Inside the provisioner"): the process backend's one node, in the default pool, is
upserted; docker nodes, registered through the API, only get their status and one
health check (a node removed meanwhile is not made again)."""

from __future__ import annotations

import logging

from services.provisioner.backends.base import NodeInfo
from services.provisioner.domain.models import HealthBatch, HealthCheck, Node
from services.provisioner.operations.runtime.deps import RuntimeDeps

log = logging.getLogger(__name__)
PROCESS = "process"


def provisioner_of_node(deps: RuntimeDeps, address: str) -> str:
    owner = getattr(deps.backend, "provisioner_of_node", None)
    return str(owner(address)) if owner is not None else deps.backend.name


def report_nodes(deps: RuntimeDeps) -> int:
    """Every node of the backends with its status and one health check; how many."""
    catalogue = deps.catalogue
    if catalogue is None:
        return 0
    now = deps.clock()
    pool = catalogue.pools.default_name() or ""
    nodes = deps.backend.nodes()
    for info in nodes:
        provisioner = provisioner_of_node(deps, info.address)
        if provisioner == PROCESS:
            catalogue.nodes.report(
                Node(
                    address=info.address,
                    provisioner=provisioner,
                    pool=info.pool or pool,
                    status=info.status,
                    metadata=dict(info.metadata),
                ),
                now,
            )
        elif info.status != "disabled":
            catalogue.nodes.set_status(info.address, info.status)
        record_check(deps, info, provisioner)
    return len(nodes)


def record_check(deps: RuntimeDeps, info: NodeInfo, check_name: str) -> None:
    if deps.catalogue is None:
        return
    ok = info.status == "ready"
    check = HealthCheck(check_name, "" if ok else f"node is {info.status}", ok)
    deps.catalogue.nodes.record_health(info.address, HealthBatch(deps.clock(), (check,)))
