"""Node containers (provisioning.md §3.11): configs stored per pool as tsuru stores them.

The worker keeps them running on the docker nodes of their pools
(operations/runtime/nodecontainers.py); the process provisioner runs none. An upgrade,
or a removal with ``kill``, is applied at once by the worker (``nodecontainers.apply``)
to every node of the pool, its lines streamed.
"""

from __future__ import annotations

from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.nodecontainers import image, merge, shaped
from services.provisioner.operations.deps import DOCKER, Body, Deps, Writer
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure, scope

BIG_SIBLING = "big-sibling"
NOT_RUN = "node containers run on docker nodes only: this stack runs no docker provisioner\n"


def _contexts(pool: str) -> list[tuple[str, str]]:
    return [("pool", pool)] if pool else []


def _readable(identity: Identity) -> set[str] | None:
    """Pools whose entries the caller sees (None: all); 403 without any grant."""
    ctxs = scope(identity, "nodecontainer.read")
    if not ctxs:
        ensure(identity, "nodecontainer.read")
    if any(t == "global" for t, _ in ctxs):
        return None
    return {v for t, v in ctxs if t == "pool"}


def _visible(pools: dict[str, Any], allowed: set[str] | None) -> dict[str, Any]:
    return {p: c for p, c in pools.items() if allowed is None or p == "" or p in allowed}


def list_node_containers(deps: Deps, identity: Identity) -> list[dict[str, Any]]:
    allowed = _readable(identity)
    return [
        {"Name": name, "ConfigPools": _visible(pools, allowed)}
        for name, pools in deps.stores.node_containers.all().items()
    ]


def node_container_info(deps: Deps, identity: Identity, name: str) -> dict[str, Any]:
    allowed = _readable(identity)
    pools = deps.stores.node_containers.get(name)
    if not pools:
        raise errors.NodeContainerNotFound()
    return _visible(pools, allowed)


def create(deps: Deps, identity: Identity, pool: str, config: dict[str, Any], fields: Any) -> None:
    name = str(config.get("Name", ""))
    permit = authorize(identity, "nodecontainer.create", _contexts(pool))
    with permit.record(deps.recorder, target=Target("node-container", name), custom_data=fields,
                       visible_in=_contexts(pool)):  # fmt: skip
        if not name:
            raise errors.NodeContainerInvalid("node container config name cannot be empty")
        base = deps.stores.node_containers.get(name).get("")
        if not image(config) and (not pool or base is None or not image(base)):
            raise errors.NodeContainerInvalid("node container config image cannot be empty")
        deps.stores.node_containers.put(name, pool, shaped(name, config))


def update(
    deps: Deps, identity: Identity, name: str, pool: str, config: dict[str, Any], fields: Any
) -> None:
    permit = authorize(identity, "nodecontainer.update", _contexts(pool))
    # tsuru names the body's Name in the event; the URL's name is applied after it.
    target = Target("node-container", str(config.get("Name", "")))
    with permit.record(deps.recorder, target=target, custom_data=fields,
                       visible_in=_contexts(pool)):  # fmt: skip
        stored = deps.stores.node_containers.get(name).get(pool)
        if stored is None:
            raise errors.NodeContainerNotFound()
        given = {k: v for k, v in config.items() if k != "Name"}
        deps.stores.node_containers.put(name, pool, shaped(name, merge(stored, given)))


def remove(
    deps: Deps, identity: Identity, name: str, pool: str, kill: bool, fields: Any
) -> Body | None:
    permit = authorize(identity, "nodecontainer.delete", _contexts(pool))
    with permit.record(deps.recorder, target=Target("node-container", name), custom_data=fields,
                       visible_in=_contexts(pool)):  # fmt: skip
        if not deps.stores.node_containers.delete(name, pool):
            raise errors.NodeContainerPoolNotFound(name, pool)
    if not kill:
        return None

    def body(out: Writer) -> None:
        _apply(deps, name, pool, upgrade=False, out=out)

    return body


def _apply(deps: Deps, name: str, pool: str, *, upgrade: bool, out: Writer) -> None:
    """The worker applies the stored configs of ``name`` to the pool's nodes now."""
    if DOCKER not in deps.config.provisioners:
        out.write(NOT_RUN)
        return
    # A failure is the worker's ``multiple errors upgrading nodes: ...`` (tsuru's text).
    deps.commands().run("nodecontainers.apply", {"name": name, "pool": pool,
                                                 "upgrade": upgrade}, out)  # fmt: skip


def upgrade(deps: Deps, identity: Identity, name: str, pool: str, fields: Any) -> Body:
    permit = authorize(identity, "nodecontainer.update.upgrade", _contexts(pool))

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=Target("node-container", name),
                           custom_data=fields, visible_in=_contexts(pool)) as evt:  # fmt: skip
            pools = deps.stores.node_containers.get(name)
            if pool not in pools and "" not in pools:
                raise errors.NodeContainerNotFound()
            entry = pools.get(pool)
            if entry is None:
                entry = shaped(name, {})
            if entry.get("PinnedImage"):
                entry["PinnedImage"] = ""  # the next start pulls the image again
            deps.stores.node_containers.put(name, pool, entry)
            base = pools.get("")
            if pool and base is not None and base.get("PinnedImage") and not image(entry):
                deps.stores.node_containers.put(name, "", {**base, "PinnedImage": ""})
            evt.attach(out)
            _apply(deps, name, pool, upgrade=True, out=_EventLog(evt))

    return body


class _EventLog:
    """The worker's lines written to the running event (hence to the client's stream)."""

    def __init__(self, evt: Any) -> None:
        self._evt = evt

    def write(self, message: str) -> None:
        self._evt.log(message)


def seed_big_sibling(deps: Deps, endpoint: str) -> None:
    """tsuru creates big-sibling's base config at start when it has no env yet."""
    current = deps.stores.node_containers.get(BIG_SIBLING).get("")
    if current is not None and (current.get("Config") or {}).get("Env"):
        return
    config = {
        "Name": BIG_SIBLING,
        "Config": {
            "Image": "tsuru/bs:v1",
            "Env": [f"TSURU_ENDPOINT={endpoint}", "HOST_PROC=/prochost",
                    "SYSLOG_LISTEN_ADDRESS=udp://0.0.0.0:1514"],
        },
        "HostConfig": {
            "Binds": ["/proc:/prochost:ro"], "Privileged": True, "NetworkMode": "host",
            "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}, "LogConfig": {},
        },
    }  # fmt: skip
    deps.stores.node_containers.put(BIG_SIBLING, "", shaped(BIG_SIBLING, config))
