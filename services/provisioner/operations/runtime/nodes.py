"""The runtime reports the nodes its backend runs units on to the catalogue (docs/runtime.md
"Inside the provisioner"): the process backend's one node, in the default pool."""

from __future__ import annotations

import logging

from services.provisioner.domain.models import HealthBatch, HealthCheck, Node
from services.provisioner.operations.runtime.deps import RuntimeDeps

log = logging.getLogger(__name__)


def report_nodes(deps: RuntimeDeps) -> int:
    """Upsert every node of the backend with its status and one health check; how many."""
    catalogue = deps.catalogue
    if catalogue is None:
        return 0
    now = deps.clock()
    pool = catalogue.pools.default_name() or ""
    nodes = deps.backend.nodes()
    for info in nodes:
        catalogue.nodes.report(
            Node(
                address=info.address,
                provisioner=deps.backend.name,
                pool=info.pool or pool,
                status=info.status,
                metadata=dict(info.metadata),
            ),
            now,
        )
        ok = info.status == "ready"
        check = HealthCheck(deps.backend.name, "" if ok else f"node is {info.status}", ok)
        catalogue.nodes.record_health(info.address, HealthBatch(now, (check,)))
    return len(nodes)
