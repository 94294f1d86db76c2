"""Configuration of the docker backend, from a mapping of environment variables.

| variable | default | meaning |
|---|---|---|
| TSUBAME_DOCKER_STATE_DIR | ``$TSUBAME_DATA_DIR/docker`` | unit records shared by the backend instances of a host (owner locks, restart counts, log positions) |
| TSUBAME_DOCKER_API_TIMEOUT | 60 | seconds one Docker API call may take (builds and image copies: the build timeout) |
| TSUBAME_DOCKER_BUILD_TIMEOUT | 1800 | seconds for an app image build with its hooks, or a platform image build |
| TSUBAME_DOCKER_IMAGE_PREFIX | ``tsuru`` | repository prefix of app images (``<namespace>/<prefix>/app-<app>:v<version>``) |
| TSUBAME_DOCKER_PIDS_LIMIT | 1024 | processes one unit may hold |
| TSUBAME_DOCKER_ARCHIVE_MAX_BYTES | 536870912 | unpacked size limit of a deployed archive |
| TSUBAME_DOCKER_ARCHIVE_MAX_FILES | 20000 | entry limit of a deployed archive |

Units and images carry the label ``tsubame.namespace`` (the stack's namespace): stacks
that share engines never see each other's units.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.provisioner.backends.archive import ArchiveLimits
from services.provisioner.backends.base import BackendError

# tsuru's docker provisioner: units listen on 8888 inside their container.
UNIT_PORT = 8888
APP_UID = 1000  # the unprivileged user of every unit (tsuru's images use 1000 too)
APP_DIR = "/home/application/current"  # tsuru's path of the deployed code
HOME = "/home/application"
_PREFIX = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BackendError(f"{key} must be an integer, not {raw!r}") from None
    if value <= 0:
        raise BackendError(f"{key} must be positive")
    return value


@dataclass(frozen=True)
class DockerConfig:
    # Shared by the backend instances of this host (store.py): owner locks, counts.
    state_dir: str
    namespace: str = ""
    image_prefix: str = "tsuru"
    api_timeout: float = 60.0
    build_timeout: float = 1800.0
    pids_limit: int = 1024
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    # Crash restarts wait 0.5 s, 1 s, 2 s ... up to this; a unit that ran this long
    # before crashing starts again from the shortest wait.
    backoff_max: float = 30.0
    poll_interval: float = 0.5  # seconds between two looks at a node's containers
    node_check_interval: float = 2.0  # seconds a node's health answer is reused

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.image_prefix):
            raise BackendError(f"invalid image prefix {self.image_prefix!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, namespace: str) -> DockerConfig:
        data_dir = env.get("TSUBAME_DATA_DIR") or "./.data"
        state_dir = env.get("TSUBAME_DOCKER_STATE_DIR") or os.path.join(data_dir, "docker")
        return cls(
            state_dir=os.path.abspath(state_dir),
            namespace=namespace,
            image_prefix=env.get("TSUBAME_DOCKER_IMAGE_PREFIX") or "tsuru",
            api_timeout=float(_int(env, "TSUBAME_DOCKER_API_TIMEOUT", 60)),
            build_timeout=float(_int(env, "TSUBAME_DOCKER_BUILD_TIMEOUT", 1800)),
            pids_limit=_int(env, "TSUBAME_DOCKER_PIDS_LIMIT", 1024),
            archive=ArchiveLimits(
                max_bytes=_int(env, "TSUBAME_DOCKER_ARCHIVE_MAX_BYTES", 512 << 20),
                max_files=_int(env, "TSUBAME_DOCKER_ARCHIVE_MAX_FILES", 20_000),
            ),
        )

    def image_name(self, app: str, version: int) -> str:
        """``<namespace>/<prefix>/app-<app>:v<version>``: stacks sharing an engine never
        overwrite each other's app images (the namespace as an image path component)."""
        space = re.sub(r"[^a-z0-9]+", "-", self.namespace.lower()).strip("-")
        return f"{space + '/' if space else ''}{self.image_prefix}/app-{app}:v{version}"

    def legacy_image_name(self, app: str, version: int) -> str:
        """The name app images had before they carried the namespace (still referenced
        by the versions built then, which start under it)."""
        return f"{self.image_prefix}/app-{app}:v{version}"
