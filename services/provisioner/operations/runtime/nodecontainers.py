"""Node containers kept running on every docker node of their pools (provisioning.md
§2j, §3.11), nodes added later included: the worker compares each answering node with
the configs every ``SYNC_INTERVAL`` seconds and makes it run exactly the effective ones
of its pool (the pool's entry over the base; disabled or image-less ones: none)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from services.provisioner.domain.nodecontainers import merge
from services.provisioner.operations.runtime import scheduler
from services.provisioner.operations.runtime.deps import RuntimeDeps

log = logging.getLogger(__name__)

SYNC_INTERVAL = 5.0


def _set(value: Any) -> Any:
    """The keys a pool entry really sets (tsuru's stored entries carry empty ones)."""
    if isinstance(value, dict):
        kept = {k: _set(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    return value


def effective(pools: Mapping[str, dict[str, Any]], pool: str) -> dict[str, Any] | None:
    base = pools.get("") or {}
    mine = pools.get(pool) if pool else None
    config = merge(dict(base), _set(mine)) if mine else dict(base)
    disabled = (mine or {}).get("Disabled")
    if disabled is None:
        disabled = base.get("Disabled")
    image = config.get("PinnedImage") or (config.get("Config") or {}).get("Image")
    if disabled or not image:
        return None
    return config


def sync_node_containers(deps: RuntimeDeps, reported: dict[str, str]) -> None:
    """One pass over the answering docker nodes; ``reported`` keeps the last error of
    each node (each error is logged once)."""
    if deps.catalogue is None or deps.node_runner is None:
        return
    configs = deps.catalogue.node_containers.all()
    for node in scheduler.docker_nodes(deps):
        if not scheduler.node_answers(deps, node.address):
            continue
        wanted = {}
        for name, pools in configs.items():
            config = effective(pools, node.pool)
            if config is not None:
                wanted[name] = config
        errors = "; ".join(deps.node_runner.sync_node_containers(node.address, wanted))
        if errors and reported.get(node.address) != errors:
            log.warning("node containers on %s: %s", node.address, errors)
        reported[node.address] = errors
