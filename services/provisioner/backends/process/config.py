"""Configuration of the process backend, from a mapping of environment variables.

The variables (``TSUBAME_PROCESS_*``) are rows of README.md's configuration table.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.provisioner.backends.archive import ArchiveLimits
from services.provisioner.backends.base import BackendError


def _default_python() -> str:
    # The app user must be able to run it: the system's, not a venv under /root.
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("python3") or "python3"


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


def _uid_range(raw: str) -> tuple[int, int]:
    low, sep, high = raw.partition("-")
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        lo = hi = -1
    if not sep or lo < 1000 or hi < lo or hi > 2**32 - 3:
        raise BackendError(
            f"TSUBAME_PROCESS_UID_RANGE must be LOW-HIGH with 1000 <= LOW <= HIGH, not {raw!r}"
        )
    return lo, hi


@dataclass(frozen=True)
class ProcessConfig:
    root: str
    uid_range: tuple[int, int] = (1_000_000, 1_999_999_999)
    python: str = field(default_factory=_default_python)
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    pip_timeout: float = 600.0
    build_timeout: float = 1800.0
    log_max_bytes: int = 1 << 20
    backoff_max: float = 30.0
    node: str = field(default_factory=lambda: f"local://{socket.gethostname()}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProcessConfig:
        data_dir = env.get("TSUBAME_DATA_DIR") or "./.data"
        root = env.get("TSUBAME_PROCESS_ROOT") or os.path.join(data_dir, "units")
        return cls(
            root=os.path.abspath(root),
            uid_range=_uid_range(env.get("TSUBAME_PROCESS_UID_RANGE") or "1000000-1999999999"),
            python=env.get("TSUBAME_PROCESS_PYTHON") or _default_python(),
            archive=ArchiveLimits(
                max_bytes=_int(env, "TSUBAME_PROCESS_ARCHIVE_MAX_BYTES", 512 << 20),
                max_files=_int(env, "TSUBAME_PROCESS_ARCHIVE_MAX_FILES", 20_000),
            ),
            pip_timeout=float(_int(env, "TSUBAME_PROCESS_PIP_TIMEOUT", 600)),
            build_timeout=float(_int(env, "TSUBAME_PROCESS_BUILD_TIMEOUT", 1800)),
            log_max_bytes=_int(env, "TSUBAME_PROCESS_LOG_MAX_BYTES", 1 << 20),
        )
