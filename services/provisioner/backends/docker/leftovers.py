"""What an app leaves on one engine: its containers (units, builds, execs) and images."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import docker.errors

from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.nodes import bare_name


def remove_app_objects(client: Any, namespace: str, app: str) -> None:
    """Remove every container and image of ``app`` labelled with ``namespace`` from the
    engine behind ``client``; engine errors other than "not found" are raised."""
    for entry in client.api.containers(
        all=True, filters={"label": ct.label_filter(namespace, **{ct.APP: app})}
    ):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(entry["Id"], force=True)
    # podman matches no image for two label filters: one, then ours.
    for image in client.api.images(filters={"label": ct.label_filter(namespace)}):
        if (image.get("Labels") or {}).get(ct.APP) != app:
            continue
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_image(image["Id"], force=True)


def remove_own_images(client: Any, namespace: str, names: Iterable[str]) -> None:
    """The images named ``names`` that are this stack's (``namespace`` label) removed: a
    name made before names carried the namespace may be another stack's image."""
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            if owned(client.api.inspect_image(name), name, namespace):
                client.api.remove_image(name)


def owned(info: dict[str, Any], name: str, namespace: str) -> bool:
    """Whether an image's inspection shows it named exactly ``name`` (podman finds a
    short name by suffix) and labelled with this stack's ``namespace``."""
    labels = (info.get("Config") or {}).get("Labels") or {}
    tags = info.get("RepoTags") or ()
    return labels.get(ct.NAMESPACE) == namespace and any(
        bare_name(tag) == bare_name(name) for tag in tags
    )
