"""Where units run (provisioning.md §4.3): the nodes of the app's pool.

An app's pool names its provisioner. A process pool has one node, this machine, and its
units name none. A docker pool's units go to the docker nodes registered for that pool
(``POST /node``), enabled and answering; among them tsuru's docker scheduler picks the
node with the fewest units of the same app and process, then the fewest units at all:
an app's units spread over the nodes first, then towards the emptier ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from services.provisioner.domain.models import Node
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.runtime_errors import NoNodes
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.storage.ports import Stores

DOCKER = "docker"
DISABLED = "disabled"
READY = "ready"


def host(address: str) -> str:
    """How tsuru names a node in its lines: the host of its URL (a socket's whole address)."""
    return urlsplit(address).hostname or address


def pool_in(catalogue: Stores | None, rt: AppRuntime) -> str:
    if rt.spec.pool or catalogue is None:
        return rt.spec.pool
    return catalogue.pools.default_name() or ""


def provisioner_in(catalogue: Stores | None, default: str, pool: str) -> str:
    found = catalogue.pools.get(pool) if catalogue is not None and pool else None
    return (found.provisioner if found else "") or default


def pool_of(deps: RuntimeDeps, rt: AppRuntime) -> str:
    return pool_in(deps.catalogue, rt)


def provisioner_of_pool(deps: RuntimeDeps, pool: str) -> str:
    return provisioner_in(deps.catalogue, deps.config.default_provisioner, pool)


def provisioner_of(deps: RuntimeDeps, rt: AppRuntime) -> str:
    return provisioner_of_pool(deps, pool_of(deps, rt))


def node_ready(deps: RuntimeDeps, node: Node) -> bool:
    if node.status == DISABLED:
        return False
    return deps.node_health is None or deps.node_health.status(node.address) == READY


def node_answers(deps: RuntimeDeps, address: str) -> bool:
    """False for a docker node whose engine does not answer (the process node always)."""
    if not address or address.startswith("local://") or deps.node_health is None:
        return True
    return deps.node_health.status(address) == READY


def docker_nodes(deps: RuntimeDeps, pool: str = "") -> list[Node]:
    """The docker nodes registered (for ``pool``, when given), in registration order."""
    return nodes_in(deps.catalogue, pool)


def nodes_in(catalogue: Stores | None, pool: str = "") -> list[Node]:
    if catalogue is None:
        return []
    return [
        n for n in catalogue.nodes.all() if n.provisioner == DOCKER and (not pool or n.pool == pool)
    ]


def usable_nodes(deps: RuntimeDeps, pool: str, exclude: Collection[str] = ()) -> list[Node]:
    return [n for n in docker_nodes(deps, pool) if n.address not in exclude and node_ready(deps, n)]


def choose(
    nodes: Iterable[Node],
    units: Iterable[Unit],
    app: str,
    process: str,
    skip_unit: str = "",
) -> str:
    """tsuru's score, lowest wins: units of this app and process on the node, then all
    units on it; registration order breaks ties. ``skip_unit`` is left out of the counts
    (a unit being moved)."""
    same: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for unit in units:
        if not unit.node or unit.id == skip_unit:
            continue
        total[unit.node] += 1
        if unit.app == app and unit.process == process:
            same[unit.node] += 1
    candidates = list(nodes)
    best = min(range(len(candidates)), key=lambda i: (
        same[candidates[i].address], total[candidates[i].address], i))  # fmt: skip
    return candidates[best].address


def node_for(deps: RuntimeDeps, rt: AppRuntime, unit: Unit, exclude: Collection[str] = ()) -> str:
    """The node ``unit`` starts on: ``""`` in a process pool; in a docker pool its own
    node while that node is usable, else the scheduler's choice. Raises NoNodes."""
    pool = pool_of(deps, rt)
    if provisioner_of_pool(deps, pool) != DOCKER:
        return ""
    nodes = usable_nodes(deps, pool, exclude)
    if not nodes:
        raise NoNodes(pool)
    if unit.node and any(n.address == unit.node for n in nodes):
        return unit.node
    return choose(nodes, deps.stores.units.all(), rt.app, unit.process, unit.id)


def build_node(deps: RuntimeDeps, rt: AppRuntime) -> str:
    """Where a new version is built: ``""`` in a process pool, else the docker node of
    the pool with the fewest units of the app (then the fewest at all)."""
    pool = pool_of(deps, rt)
    if provisioner_of_pool(deps, pool) != DOCKER:
        return ""
    nodes = usable_nodes(deps, pool)
    if not nodes:
        raise NoNodes(pool)
    return choose(nodes, deps.stores.units.all(), rt.app, "")


def shell_node(
    catalogue: Stores | None, default_provisioner: str, units: Iterable[Unit], rt: AppRuntime
) -> str:
    """Where an isolated shell of an app without units runs, chosen in the web process
    (which knows no engine's health): ``""`` in a process pool, else the enabled docker
    node of the app's pool ``build_node`` would score first. Raises NoNodes."""
    pool = pool_in(catalogue, rt)
    if provisioner_in(catalogue, default_provisioner, pool) != DOCKER:
        return ""
    nodes = [n for n in nodes_in(catalogue, pool) if n.status != DISABLED]
    if not nodes:
        raise NoNodes(pool)
    return choose(nodes, units, rt.app, "")
