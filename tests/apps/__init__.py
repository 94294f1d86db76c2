"""Apps for tests: ``sample/`` (see its app.py) and a helper to pack an app directory.

``sample_archive(dest)`` writes ``dest/sample.tar.gz``; ``extra`` adds or replaces
files (name -> text or bytes, ``None`` removes one): e.g. a Procfile with a second
process, or a tsuru.yaml whose healthcheck fails.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "sample"


def pack(
    source: Path,
    dest: Path,
    extra: Mapping[str, str | bytes | None] | None = None,
    name: str = "app.tar.gz",
) -> Path:
    """A .tar.gz of ``source``'s files (names relative to it) plus ``extra``."""
    files: dict[str, bytes | None] = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(source).as_posix()] = path.read_bytes()
    for key, value in (extra or {}).items():
        files[key] = value.encode() if isinstance(value, str) else value
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / name
    with tarfile.open(out, "w:gz") as tar:
        for key, data in files.items():
            if data is None:
                continue
            info = tarfile.TarInfo(key)
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o755 if key.endswith((".sh", ".py")) else 0o644
            tar.addfile(info, io.BytesIO(data))
    return out


def sample_archive(dest: Path, extra: Mapping[str, str | bytes | None] | None = None) -> Path:
    return pack(SAMPLE, dest, extra, "sample.tar.gz")
