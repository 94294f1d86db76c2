"""The ``docker`` backend: app units as containers on Docker-API engines.

``DockerBackend`` (backend.py) implements the Protocol of ``backends/base.py`` over the
docker SDK; ``DockerConfig`` (config.py) is its configuration. Local engines for tests
and development come from ``scripts/podman.py``.
"""

from __future__ import annotations

from services.provisioner.backends.docker.backend import DockerBackend
from services.provisioner.backends.docker.config import DockerConfig

__all__ = ["DockerBackend", "DockerConfig"]
