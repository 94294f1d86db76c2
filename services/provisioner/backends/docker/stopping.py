"""Stopping every unit of a namespace on some engines (no backend instance needed).

What a stack does when it stops: each running unit container of its namespace is marked
stopped (renamed, see containers.py) and stopped, all nodes and units at once, so a
later backend sees them ``stopped`` and never restarts them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import docker.errors

from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.errors import API_ERRORS
from services.provisioner.backends.docker.nodes import base_url


def _unit_containers(client: docker.DockerClient, namespace: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.api.containers(
        all=True, filters={"label": ct.label_filter(namespace, "unit")}
    )
    return found


def _stop_one(client: docker.DockerClient, entry: dict[str, Any], timeout: float) -> None:
    unit = str((entry.get("Labels") or {}).get(ct.UNIT, ""))
    with contextlib.suppress(*API_ERRORS):
        if not ct.marked_stopped(entry):
            client.api.rename(entry["Id"], unit + ct.STOPPED_SUFFIX)
        if ct.is_running(entry):
            client.api.stop(entry["Id"], timeout=int(timeout))


def stop_all(addresses: Sequence[str], namespace: str, timeout: float = 10.0) -> None:
    clients = [docker.DockerClient(base_url=base_url(a), timeout=timeout + 30) for a in addresses]
    try:
        work: list[tuple[docker.DockerClient, dict[str, Any]]] = []
        for client in clients:
            with contextlib.suppress(*API_ERRORS):
                work += [(client, e) for e in _unit_containers(client, namespace)]
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(work)))) as pool:
            for done in [pool.submit(_stop_one, c, e, timeout) for c, e in work]:
                done.result()
    finally:
        for client in clients:
            client.close()


def running_units(addresses: Sequence[str], namespace: str) -> list[str]:
    """Ids of the namespace's unit containers still running (what stop_all leaves)."""
    left = []
    for address in addresses:
        client = docker.DockerClient(base_url=base_url(address), timeout=30)
        try:
            left += [
                f"{address} {e['Id'][:12]}"
                for e in _unit_containers(client, namespace)
                if ct.is_running(e)
            ]
        finally:
            client.close()
    return left
