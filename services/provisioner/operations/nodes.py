"""Nodes (provisioning.md §2e, §3.4): the machine the process backend runs on is one node
(reported by the runtime); docker engines are nodes registered through the API.

What units run on a node comes from the runtime (``deps.units``). Moving units between
nodes (node removal with rebalance, ``POST /node/rebalance``) is the runtime's; a pool of
the process provisioner has one node, so there is nothing to move there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from services.provisioner.domain import errors
from services.provisioner.domain.infra import Machine
from services.provisioner.domain.models import Node
from services.provisioner.operations.deps import DOCKER, PROCESS, Body, Deps, Writer
from shared.events import READ_EVENTS, Allowed, Target
from shared.identity import Identity
from shared.mutation import Permit, authorize
from shared.permissions import scope

POOL, ADDRESS, IAAS, IAAS_ID, TEMPLATE = "pool", "address", "iaas", "iaas-id", "template"


@dataclass(frozen=True)
class AddNode:
    register: bool
    metadata: dict[str, str]
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class NodeChange:
    address: str
    metadata: dict[str, str]
    enable: bool = False
    disable: bool = False


def provisioner_of(deps: Deps, pool: str) -> str:
    found = deps.stores.pools.get(pool)
    return (found.provisioner if found else "") or deps.config.default_provisioner


def _existing(deps: Deps, address: str) -> Node:
    node = deps.stores.nodes.get(address)
    if node is None:
        raise errors.NodeNotFound()
    return node


def list_nodes(
    deps: Deps, identity: Identity, filters: dict[str, str]
) -> tuple[list[Node], list[Machine]]:
    ctxs = scope(identity, "node.read")
    every = any(t == "global" for t, _ in ctxs)
    pools = {v for t, v in ctxs if t == "pool"}
    nodes = [
        n
        for n in deps.stores.nodes.all()
        if (every or n.pool in pools) and all(n.metadata.get(k) == v for k, v in filters.items())
    ]
    mctxs = scope(identity, "machine.read")
    every_iaas = any(t == "global" for t, _ in mctxs)
    iaases = {v for t, v in mctxs if t == "iaas"}
    machines = [m for m in deps.stores.machines.all() if every_iaas or m.iaas in iaases]
    return nodes, machines


def node_info(deps: Deps, identity: Identity, address: str) -> tuple[Node, list[dict[str, Any]]]:
    node = _existing(deps, address)
    authorize(identity, "node.read", [("pool", node.pool)])
    if not node.iaas_id:
        # tsuru's quirk: a machine at that address lends its IaaS *name* as the id.
        machine = next((m for m in deps.stores.machines.all() if m.address == address), None)
        if machine is not None:
            node.iaas_id = machine.iaas
    return node, deps.units.by_node(node.address)


def units_by_node(deps: Deps, identity: Identity, address: str) -> list[dict[str, Any]]:
    node = _existing(deps, address)
    authorize(identity, "node.read", [("pool", node.pool)])
    return deps.units.by_node(node.address)


def units_by_app(deps: Deps, identity: Identity, app: str) -> list[dict[str, Any]]:
    found = deps.apps.app(app)
    if found is None:
        raise errors.AppNotFound()
    authorize(identity, "app.read", found.contexts())
    return deps.units.by_app(app)


def _template(deps: Deps, metadata: dict[str, str]) -> dict[str, str]:
    name = metadata.pop(TEMPLATE, None)
    if name is None:
        return metadata
    template = deps.stores.templates.get(name)
    if template is None:
        raise errors.TemplateNotFoundForNode()
    expanded = {e.name: e.value for e in template.data}
    expanded[IAAS] = template.iaas
    return {**expanded, **metadata}  # explicit keys win


def validate_address(address: str) -> None:
    if not address:
        raise errors.NodeAddressInvalid("address=url parameter is required")
    parts = urlsplit(address)
    if parts.scheme == "unix":
        # A local engine's socket (Tsubame's podman engines): no host, a path.
        if not parts.path:
            raise errors.NodeAddressInvalid("Invalid address url: host cannot be empty")
        return
    if not parts.netloc:
        raise errors.NodeAddressInvalid("Invalid address url: host cannot be empty")
    if not parts.scheme.startswith("http"):
        raise errors.NodeAddressInvalid("Invalid address url: scheme must be http[s]")


def add_node(deps: Deps, identity: Identity, opts: AddNode, fields: Any) -> Body:
    metadata = _template(deps, dict(opts.metadata))
    pool = metadata.get(POOL, "")
    iaas_id = metadata.pop(IAAS_ID, "")
    if not pool:
        raise errors.NodePoolRequired()
    permit = authorize(identity, "node.create", [("pool", pool)])
    if deps.stores.pools.get(pool) is None:
        raise errors.NodePoolNotFound()
    provisioner = provisioner_of(deps, pool)
    if provisioner != DOCKER:
        raise errors.NoNodeOperations(provisioner)
    address = metadata.pop(ADDRESS, "") if opts.register else ""

    def body(out: Writer) -> None:
        # tsuru sends 201 first: what fails from here is an error line of the stream.
        # The event names the node once its address is known.
        with permit.record(deps.recorder, target=Target("node", address), custom_data=fields,
                           lock=False):  # fmt: skip
            if not opts.register:
                raise errors.NoIaaS(metadata.get(IAAS, ""))
            validate_address(address)
            node = Node(address, DOCKER, pool, "waiting", {**metadata, POOL: pool}, iaas_id)
            deps.stores.nodes.add(node)

    return body


def remove_node(deps: Deps, identity: Identity, address: str, rebalance: bool, fields: Any) -> Body:
    node = _existing(deps, address)
    permit = authorize(identity, "node.delete", [("pool", node.pool)])
    if node.provisioner != DOCKER:
        raise errors.NoNodeOperations(node.provisioner)

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=Target("node", address), custom_data=fields):
            units = [u.id for u in deps.runtime.units.all() if u.node == address]
            if units and rebalance:
                # tsuru disables the node first: nothing new lands on it meanwhile.
                deps.stores.nodes.update(address, pool=node.pool, metadata=node.metadata,
                                         status="disabled")  # fmt: skip
                try:
                    deps.commands().run("units.move", {"units": units, "to": ""}, out)
                except Exception:
                    deps.stores.nodes.update(address, pool=node.pool, metadata=node.metadata,
                                             status=node.status)  # fmt: skip
                    raise
            deps.stores.nodes.delete(address)
            out.write(f"Node {address} removed.\n")

    return body


def update_node(deps: Deps, identity: Identity, change: NodeChange, fields: Any) -> None:
    if change.enable and change.disable:
        raise errors.EnableAndDisable()
    if not change.address:
        raise errors.NodeAddressRequired()
    node = _existing(deps, change.address)
    permit = authorize(identity, "node.update", [("pool", node.pool)])
    new_pool = change.metadata.get(POOL, "")
    if new_pool:
        authorize(identity, "node.update", [("pool", new_pool)])
    with _record(deps, permit, change.address, fields):
        if node.provisioner != DOCKER:
            raise errors.NoNodeOperations(node.provisioner)
        metadata = dict(node.metadata)
        for key, value in change.metadata.items():
            if value == "":
                metadata.pop(key, None)
            else:
                metadata[key] = value
        status = node.status
        if change.disable:
            status = "disabled"
        elif change.enable:
            status = "waiting"
        pool = metadata.get(POOL, node.pool)
        deps.stores.nodes.update(change.address, pool=pool, metadata=metadata, status=status)


def _record(deps: Deps, permit: Permit, address: str, fields: Any) -> Any:
    return permit.record(deps.recorder, target=Target("node", address), custom_data=fields)


def rebalance(
    deps: Deps, identity: Identity, pool: str, dry: bool, apps: list[str], fields: Any
) -> Body:
    contexts = [("pool", pool)] if pool else []
    permit = authorize(identity, "node.update.rebalance", contexts)
    if pool:
        if deps.stores.pools.get(pool) is None:
            raise errors.RebalancePoolNotFound()
        provisioner = provisioner_of(deps, pool)
        if provisioner != DOCKER:
            raise errors.NoRebalance(provisioner)
    target = Target("pool", pool) if pool else Target("global", "")

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=target, custom_data=fields, cancelable=True,
                           allowed=Allowed(READ_EVENTS["pool"], tuple(contexts)),
                           # tsuru's quirk: cancelling needs app.update.events.
                           allowed_cancel=Allowed("app.update.events", tuple(contexts))) as evt:  # fmt: skip
            evt.attach(out)
            nodes = [n for n in deps.stores.nodes.all()
                     if n.provisioner == DOCKER and (not pool or n.pool == pool)]  # fmt: skip
            if not nodes:
                evt.log("No hosts matching metadata filters\n")
                return
            units = [u for n in nodes for u in deps.units.by_node(n.address)
                     if not apps or u.get("AppName") in apps]  # fmt: skip
            if not units:
                evt.log("No containers found to rebalance\n")
                return
            try:
                deps.commands().run("units.rebalance", {"pool": pool, "apps": apps,
                                                        "dry": dry}, _EventLog(evt))  # fmt: skip
            except Exception as exc:
                raise errors.MoveFailed(
                    f"Error trying to rebalance units in nodes: {exc}") from exc  # fmt: skip
            evt.log("Units successfully rebalanced!\n")

    return body


class _EventLog:
    def __init__(self, evt: Any) -> None:
        self._evt = evt

    def write(self, message: str) -> None:
        self._evt.log(message)


def register_local_node(deps: Deps, address: str) -> None:
    """At start: the process backend's node is listed before the runtime's first report
    (tsuru's ``waiting``: registered, not checked yet)."""
    if deps.stores.nodes.get(address) is None:
        pool = deps.stores.pools.default_name() or ""
        node = Node(address, PROCESS, pool, "waiting", {"backend": PROCESS})
        deps.stores.nodes.report(node, deps.clock())
