"""Node containers (provisioning.md §2j) on one node: ``<namespace>-nc-<name>``, kept
running with the effective config of the node's pool.

What is applied of a config: ``Config`` Image (``PinnedImage`` first), Env, Cmd,
Entrypoint, User, WorkingDir, Labels and ``HostConfig`` Memory, NetworkMode and
RestartPolicy. ``Privileged`` and ``Binds`` are not applied: on these machines the
engines share the host with the units and the provisioner itself, and a pool-scoped
grant must not hand out the host (docs/compatibility.md). A config whose image the node
lacks is reported, not pulled (no registry is reachable).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

import docker
import docker.errors

from services.provisioner.backends.base import BackendError
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.nodes import NodeClients

KIND = "nodecontainer"
NAME_LABEL = "tsubame.nodecontainer"
DIGEST_LABEL = "tsubame.nodecontainer.config"


def image_of(config: Mapping[str, Any]) -> str:
    return str(config.get("PinnedImage") or (config.get("Config") or {}).get("Image") or "")


def digest(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def create_args(namespace: str, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    conf = config.get("Config") or {}
    host = config.get("HostConfig") or {}
    labels = {str(k): str(v) for k, v in (conf.get("Labels") or {}).items()}
    labels.update(ct.labels(namespace, KIND, **{NAME_LABEL: name, DIGEST_LABEL: digest(config)}))
    args: dict[str, Any] = {
        "image": image_of(config),
        "name": f"{namespace}-nc-{name}".replace("_", "-"),
        "labels": labels,
        "environment": list(conf.get("Env") or []),
        "detach": True,
    }
    if conf.get("Cmd"):
        args["command"] = list(conf["Cmd"])
    if conf.get("Entrypoint"):
        args["entrypoint"] = list(conf["Entrypoint"])
    for key, arg in (("User", "user"), ("WorkingDir", "working_dir")):
        if conf.get(key):
            args[arg] = str(conf[key])
    if host.get("Memory"):
        args["mem_limit"] = int(host["Memory"])
    if host.get("NetworkMode"):
        args["network_mode"] = str(host["NetworkMode"])
    policy = host.get("RestartPolicy") or {}
    if policy.get("Name"):
        args["restart_policy"] = {"Name": str(policy["Name"]),
                                  "MaximumRetryCount": int(policy.get("MaximumRetryCount") or 0)}  # fmt: skip
    return args


def running(client: docker.DockerClient, namespace: str) -> dict[str, dict[str, Any]]:
    """The node containers of this namespace on the node: name -> listing entry."""
    found = client.api.containers(all=True, filters={"label": ct.label_filter(namespace, KIND)})
    return {str((e.get("Labels") or {}).get(NAME_LABEL, "")): e for e in found}


def ensure(
    client: docker.DockerClient, namespace: str, wanted: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Make the node run exactly ``wanted`` (name -> effective config); the errors."""
    errors: list[str] = []
    try:
        current = running(client, namespace)
    except API_ERRORS as exc:
        return [f"listing node containers: {reason(exc)}"]
    keep: set[str] = set()
    for name, entry in current.items():
        config = wanted.get(name)
        labels = entry.get("Labels") or {}
        if config is not None and labels.get(DIGEST_LABEL) == digest(config):
            try:
                if entry.get("State") != "running":
                    client.api.start(entry["Id"])
                keep.add(name)
                continue
            except API_ERRORS as exc:
                errors.append(f"{name}: {reason(exc)}")
        try:
            client.api.remove_container(entry["Id"], force=True)
        except docker.errors.NotFound:
            pass
        except API_ERRORS as exc:
            errors.append(f"{name}: {reason(exc)}")
    for name, config in wanted.items():
        if name in keep:
            continue
        try:
            client.containers.run(**create_args(namespace, name, config))
        except (*API_ERRORS, BackendError) as exc:
            errors.append(f"{name}: {reason(exc)}")
    return errors


def apply_one(
    client: docker.DockerClient,
    namespace: str,
    name: str,
    config: Mapping[str, Any] | None,
    *,
    recreate: bool,
) -> str:
    """Node container ``name`` on the node now: removed when ``config`` is None, else
    running with ``config`` (created afresh with ``recreate``). What was done: ``removed``,
    ``absent``, ``running``, ``started`` or ``recreated``. Raises BackendError."""
    try:
        current = running(client, namespace).get(name)
        removed = False
        if current is not None:
            same = config is not None and (current.get("Labels") or {}).get(DIGEST_LABEL) == digest(
                config
            )
            if same and not recreate:
                if current.get("State") != "running":
                    client.api.start(current["Id"])
                return "running"
            try:
                client.api.remove_container(current["Id"], force=True)
            except docker.errors.NotFound:
                pass
            removed = True
        if config is None:
            return "removed" if removed else "absent"
        client.containers.run(**create_args(namespace, name, config))
    except API_ERRORS as exc:
        raise BackendError(reason(exc)) from exc
    return "recreated" if removed else "started"


class NodeContainers:
    """Node containers on the docker nodes (the runtime's NodeRunner), one change at a
    time per node (the worker's periodic pass and an upgrade may meet)."""

    def __init__(self, namespace: str, clients: NodeClients) -> None:
        self._namespace = namespace
        self._clients = clients
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _lock(self, node: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(node, threading.Lock())

    def sync_node_containers(self, node: str, wanted: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """The node runs exactly ``wanted`` node containers (name -> config); errors."""
        try:
            client = self._clients.client(node)
        except BackendError as exc:
            return [str(exc)]
        with self._lock(node):
            return ensure(client, self._namespace, wanted)

    def apply_node_container(
        self, node: str, name: str, config: Mapping[str, Any] | None, *, recreate: bool
    ) -> str:
        """Node container ``name`` on ``node`` now (see apply_one)."""
        client = self._clients.client(node)
        with self._lock(node):
            return apply_one(client, self._namespace, name, config, recreate=recreate)
