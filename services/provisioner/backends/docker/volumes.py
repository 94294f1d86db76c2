"""Volumes of units: named volumes of the node, or directories of the node's host.

A new named volume's root belongs to root; units run as uid 1000 and could not write to
it. Once, when the volume is created, a short-lived container of the release image
(root with the one capability CHOWN, no network) gives it to the app user. Host
directories are the provisioner's to prepare (their owner and mode are kept).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import docker
import docker.errors

from services.provisioner.backends.base import BackendError, Mount, UnitSpec
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.config import APP_UID
from services.provisioner.backends.docker.errors import API_ERRORS
from services.provisioner.backends.docker.oneshot import run_once

# Seconds the container giving a new volume to the app user may take.
VOLUME_INIT_TIMEOUT = 120.0


def mount_args(mounts: Sequence[Mount], local_node: bool) -> dict[str, dict[str, str]]:
    """The SDK's ``volumes`` argument; BackendError for a mount that may not be made."""
    volumes: dict[str, dict[str, str]] = {}
    for mount in mounts:
        source, target, readonly = ct.check_mount(mount)
        if source.startswith("/") and local_node and not os.path.isdir(source):
            raise BackendError(f"volume source {source!r} is not a directory")
        volumes[source] = {"bind": target, "mode": "ro" if readonly else "rw"}
    return volumes


def ensure_volumes(client: docker.DockerClient, spec: UnitSpec, namespace: str) -> None:
    for mount in spec.mounts:
        name, _, _ = ct.check_mount(mount)
        if name.startswith("/"):
            continue
        try:
            client.volumes.get(name)
            continue
        except docker.errors.NotFound:
            pass
        except API_ERRORS as exc:
            raise BackendError(f"could not inspect volume {name}: {exc}") from exc
        try:
            client.volumes.create(name, labels=ct.labels(namespace, "volume"))
            code, output = run_once(
                client,
                spec.release.image,
                ["chown", f"{APP_UID}:{APP_UID}", "/volume"],
                timeout=VOLUME_INIT_TIMEOUT,
                user="0:0",
                cap_drop=["ALL"],
                cap_add=["CHOWN"],
                security_opt=["no-new-privileges"],
                network_mode="none",
                volumes={name: {"bind": "/volume", "mode": "rw"}},
                labels=ct.labels(namespace, "volume-init"),
            )
        except (*API_ERRORS, BackendError) as exc:
            raise BackendError(f"could not prepare volume {name}: {exc}") from exc
        if code != 0:
            said = output.decode("utf-8", "replace").strip()[-300:]
            raise BackendError(f"could not prepare volume {name}: chown exited {code}: {said}")
