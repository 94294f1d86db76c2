"""What backend instances on this host share about units: owner locks, counts, log positions.

Several backend instances may watch the same engines (a restarted provisioner worker
beside the old one's last moments, the test suite's own). Per unit, exactly one of them
is its *owner*: it holds ``<root>/<unit>.lock`` (an ``flock``, released by the kernel when
the holder dies, even by kill -9) and alone restarts the unit after a crash and passes
its output to its LogSink. ``<root>/<unit>.json`` keeps what the Docker API does not: the
restart count and how far the unit's log was passed on, so the next owner resumes there.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

from services.provisioner.backends.base import BackendError

_UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")


class UnitStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, unit: str, suffix: str) -> Path:
        if not _UNIT_ID.match(unit):
            raise BackendError(f"invalid unit id {unit!r}")
        return self.root / f"{unit}{suffix}"

    def read(self, unit: str) -> dict[str, Any]:
        try:
            with open(self._path(unit, ".json"), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, unit: str, data: dict[str, Any]) -> None:
        """Replace the unit's record at once (readers never see half of it)."""
        path = self._path(unit, ".json")
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(partial, path)

    def update(self, unit: str, **fields: Any) -> None:
        data = self.read(unit)
        data.update(fields)
        self.write(unit, data)

    def acquire(self, unit: str) -> int | None:
        """The unit's owner lock (a file descriptor) if nobody else holds it."""
        fd = os.open(self._path(unit, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def release(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the only descriptor drops the flock

    def discard(self, unit: str) -> None:
        """Forget a removed unit (its lock file stays harmless if someone waits on it)."""
        for suffix in (".json", ".lock"):
            with contextlib.suppress(FileNotFoundError):
                self._path(unit, suffix).unlink()
