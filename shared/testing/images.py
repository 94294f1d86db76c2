"""The image names an engine holds, read in tests."""

from __future__ import annotations

from typing import Any


def image_names(client: Any) -> set[str]:
    """Every tag on the engine of a ``docker.DockerClient``, from one listing.

    ``client.images.list()`` inspects each listed image in a second request, so an image
    removed in between (another test, a build cleaning up) fails it with a 404; the
    listing alone already carries the tags."""
    return {tag for image in client.api.images() for tag in image.get("RepoTags") or ()}
