"""A short-lived container run to its end, without an attached or followed stream.

The SDK's ``containers.run()`` (not detached) follows the container's log stream until
the engine closes it; podman 4.3 at times leaves that stream open after the container
has ended, and a read of a stream has no timeout: the caller hangs for good (seen once
in CI, a test's ``cat`` of one line waited 300 s). Here the container is created,
started, waited for within a bound, its output read once (no follow) and removed.
"""

from __future__ import annotations

import contextlib
from typing import Any

import docker

from services.provisioner.backends.base import BackendError
from services.provisioner.backends.docker.errors import API_ERRORS, reason


def run_once(
    client: docker.DockerClient,
    image: str,
    command: list[str],
    *,
    timeout: float,
    **create: Any,
) -> tuple[int, bytes]:
    """``command`` in a new container of ``image`` (``create``: the SDK's create
    arguments) run to its end: its exit code and its output, stdout and stderr. Raises
    BackendError when the engine refuses or the container runs longer than ``timeout``
    seconds (it is removed all the same)."""
    try:
        container = client.containers.create(image, command, **create)
    except API_ERRORS as exc:
        raise BackendError(f"could not create a container of {image}: {reason(exc)}") from exc
    try:
        container.start()
        status = container.wait(timeout=timeout)
        output = container.logs(stdout=True, stderr=True)
    except API_ERRORS as exc:
        raise BackendError(f"container of {image} ({command[0]}): {reason(exc)}") from exc
    finally:
        with contextlib.suppress(*API_ERRORS):
            container.remove(force=True)
    return int(status.get("StatusCode", -1)), bytes(output)
