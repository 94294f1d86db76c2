"""Where the process backend's volumes live on this machine: one directory per volume
under ``root`` (``TSUBAME_PROVISIONER_VOLUMES``), made on first use. Every app bound to a
volume shares it, so the directory is writable by every app user; as root, ``root``
itself is closed to them (0700): a unit reaches a volume only through the mount its
sandbox makes (as root, before dropping privileges), so an app not bound to it cannot
read, write or delete its files by their host path. Not as root, units link to the
volume by its host path and run as one user anyway."""

from __future__ import annotations

import os
import re
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class LocalVolumes:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def source(self, volume: str) -> str:
        if not _NAME.match(volume) or ".." in volume:
            raise ValueError(f"invalid volume name: {volume!r}")
        path = self.root / volume
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700 if os.geteuid() == 0 else 0o711)
        if not path.is_dir():
            path.mkdir(exist_ok=True)
            os.chmod(path, 0o777)  # shared by the apps bound to it (tsuru's volumes are)
        return str(path)
