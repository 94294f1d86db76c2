"""tsuru's docker-only routes (provisioning.md §3.12): moving units between docker nodes
and the docker log config per pool.

Units of the process provisioner live on its one node: moving them answers a clear 400.
Moving docker units is the worker's (``units.move``): its lines are relayed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from services.provisioner.domain import errors, logconfig
from services.provisioner.domain.infra import LogConfig
from services.provisioner.domain.models import Node
from services.provisioner.operations.deps import DOCKER, Body, Deps, Writer
from shared.events import Target
from shared.golang.strconv import quote
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure, scope


def _host(address: str) -> str:
    parts = urlsplit(address)
    return parts.hostname or address


def _node_by_host(deps: Deps, host: str) -> Node:
    for node in deps.stores.nodes.all():
        if _host(node.address) == host or node.address == host:
            return node
    raise errors.NodeByHostNotFound(host)


def _refuse_process(node: Node) -> None:
    if node.provisioner != DOCKER:
        raise errors.ProcessPoolDocker(
            f"node {node.address} belongs to the {node.provisioner} provisioner: its units "
            "cannot move to another node"
        )


def move_container(deps: Deps, identity: Identity, unit_id: str, to: str, fields: Any) -> Body:
    if not to:
        raise errors.InvalidMoveParams(f"Invalid params: id: {quote(unit_id)} - to: {quote(to)}")
    matches = [u for u in deps.runtime.units.all() if u.id.startswith(unit_id)]
    if not matches:
        raise errors.UnitNotFound(unit_id)
    if len(matches) > 1:
        raise errors.InvalidMoveParams(f"{len(matches)} units match {quote(unit_id)}")
    unit = matches[0]
    # The unit's own node (its IP names no node when engines share a host).
    origin = deps.stores.nodes.get(unit.node) or _node_by_host(deps, unit.host)
    dest = _node_by_host(deps, to)
    permit = authorize(
        identity, "node.update.move.container", [("pool", origin.pool), ("pool", dest.pool)]
    )
    _refuse_process(origin)
    _refuse_process(dest)

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=Target("container", unit.id),
                           custom_data=fields) as evt:  # fmt: skip
            evt.attach(out)
            try:
                deps.commands().run("units.move", {"units": [unit.id], "to": dest.address,
                                                   "show_to": True}, _Log(evt))  # fmt: skip
            except Exception as exc:
                raise errors.MoveFailed(f"Error trying to move container: {exc}") from exc
            evt.log("Containers moved successfully!\n")

    return body


def move_containers(deps: Deps, identity: Identity, source: str, to: str, fields: Any) -> Body:
    if not source or not to:
        raise errors.InvalidMoveParams(f"Invalid params: from: {quote(source)} - to: {quote(to)}")
    origin = _node_by_host(deps, source)
    dest = _node_by_host(deps, to)
    permit = authorize(
        identity, "node.update.move.containers", [("pool", origin.pool), ("pool", dest.pool)]
    )
    _refuse_process(origin)
    _refuse_process(dest)

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=Target("node", source),
                           custom_data=fields) as evt:  # fmt: skip
            evt.attach(out)
            units = [u.id for u in deps.runtime.units.all() if u.node == origin.address]
            if not units:
                evt.log(f"No units to move in {source}\n")
                return
            evt.log(f"Moving {len(units)} units...\n")
            try:
                deps.commands().run("units.move", {"units": units, "to": dest.address,
                                                   "show_to": True}, _Log(evt))  # fmt: skip
            except Exception as exc:
                raise errors.MoveFailed(f"Error trying to move containers: {exc}") from exc
            evt.log("Containers moved successfully!\n")

    return body


class _Log:
    """Writes the worker's lines to the running event (hence to the client's stream)."""

    def __init__(self, evt: Any) -> None:
        self._evt = evt

    def write(self, message: str) -> None:
        self._evt.log(message)


def _log_json(config: LogConfig) -> dict[str, Any]:
    return {"Driver": config.driver, "LogOpts": dict(config.opts) or None}


def log_configs(deps: Deps, identity: Identity) -> dict[str, Any]:
    ctxs = scope(identity, "pool.update.logs")
    if not ctxs:
        ensure(identity, "pool.update.logs")
    every = any(t == "global" for t, _ in ctxs)
    pools = {v for t, v in ctxs if t == "pool"}
    stored = deps.stores.log_configs.all()
    base = stored.get("", LogConfig())
    out: dict[str, Any] = {"": _log_json(base)} if every else {}
    for pool, config in stored.items():
        if pool and (every or pool in pools):
            merged = LogConfig(config.driver or base.driver, config.opts or base.opts)
            out[pool] = _log_json(merged)
    return out


def set_log_config(
    deps: Deps, identity: Identity, pool: str, config: LogConfig, restart: bool, fields: Any
) -> Body:
    contexts = [("pool", pool)] if pool else []
    permit = authorize(identity, "pool.update.logs", contexts)

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=Target("pool", pool), custom_data=fields,
                           lock=False):  # fmt: skip
            logconfig.check(config)
            deps.stores.log_configs.put(pool, config)
        out.write("Log config successfully updated.\n")
        if not restart:
            return
        pools = [pool] if pool else [p.name for p in deps.stores.pools.all()]
        apps = sorted({a for p in pools for a in deps.apps.pool_apps(p)})
        if not apps:
            return
        out.write(f"Restarting {len(apps)} applications: [{', '.join(apps)}]\n")
        for app in apps:
            try:
                deps.restarter.restart(app, out)
                out.write(f"App {app} successfully restarted\n")
            except Exception as exc:  # one app failing does not stop the others
                out.write(f"Error: unable to restart {app}: {exc}\n")

    return body
