"""Node containers kept running on every docker node of their pools (provisioning.md
§2j, §3.11), nodes added later included: the worker compares each answering node with
the configs every ``SYNC_INTERVAL`` seconds and makes it run exactly the effective ones
of its pool (the pool's entry over the base; disabled or image-less ones: none).

An upgrade or a kill (``nodecontainers.apply``, a command of the provisioner's web
process) is applied at once to every node of the pool (every docker node for the base):
the container made afresh, or removed when the pool has no effective config left."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from services.provisioner.backends.base import BackendError
from services.provisioner.domain.nodecontainers import merge
from services.provisioner.domain.runtime_errors import InvalidCommand, NodeContainersFailed
from services.provisioner.operations.runtime import scheduler
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.scheduler import host

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


_DONE = {
    "removed": "removed from",
    "absent": "not running on",
    "running": "kept running on",
    "started": "started on",
    "recreated": "recreated on",
}


def apply(deps: RuntimeDeps, args: Mapping[str, Any], write: Callable[[str], None]) -> dict:
    """``nodecontainers.apply``: ``name`` made to match its stored configs now on every
    docker node of ``pool`` (all of them for ``""``); ``upgrade`` recreates it."""
    name, pool, upgrade = args.get("name"), args.get("pool") or "", bool(args.get("upgrade"))
    if not isinstance(name, str) or not name or not isinstance(pool, str):
        raise InvalidCommand("nodecontainers.apply: name and pool must be strings")
    if deps.catalogue is None or deps.node_runner is None:
        write("No docker backend runs here: node containers run on docker nodes only\n")
        return {"nodes": []}
    configs = deps.catalogue.node_containers.get(name)
    nodes = scheduler.docker_nodes(deps, pool)
    if not nodes:
        write(f"No docker node in pool {pool}\n" if pool else "No docker node\n")
        return {"nodes": []}
    failed: list[str] = []
    done: list[str] = []
    for node in nodes:
        where = host(node.address)
        try:
            if not scheduler.node_answers(deps, node.address):
                raise BackendError("its engine does not answer")
            what = deps.node_runner.apply_node_container(
                node.address, name, effective(configs, node.pool), recreate=upgrade
            )
        except BackendError as exc:
            # Said per node as it happens; the stream's error line sums them up.
            write(f"node container {name} failed on node {where}: {exc}\n")
            failed.append(f"{where}: {exc}")
            continue
        write(f"node container {name} {_DONE.get(what, what)} node {where}\n")
        done.append(node.address)
    if failed:
        action = "upgrading nodes" if upgrade else "removing node container"
        raise NodeContainersFailed(f"multiple errors {action}: {'; '.join(failed)}")
    return {"nodes": done}
