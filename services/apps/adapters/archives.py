"""Uploaded deploy archives, kept on disk until the provisioner fetched them.

An upload is written to ``<root>/.incoming`` as it arrives (``SpoolingRequest``:
werkzeug hands each file part to the stream we give it, so a large archive never
sits in memory) and, once its deploy event exists, linked to ``<root>/<event id>``,
the name the internal archive URL serves (``GET /internal/archives/<id>``). The
data directory is shared by every apps instance (one machine, or one volume in
docker compose), so any instance serves it. The web process relaying the deploy
removes it at the deploy's final reply; the apps worker removes it when the
provisioner reports the deploy finished (the relaying process may have died), and
sweeps what a killed process left.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import IO, Any

_ID = re.compile(r"[0-9a-f]{24}")
INCOMING = ".incoming"
# Archives (and half-received uploads) older than this are a dead process's.
STALE_SECONDS = 24 * 3600


class ArchiveSpool:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def incoming(self) -> Path:
        return self.root / INCOMING

    def receive(self) -> IO[bytes]:
        """A file an upload is written to while it arrives (deleted when closed)."""
        self.incoming.mkdir(parents=True, exist_ok=True, mode=0o700)
        return tempfile.NamedTemporaryFile(dir=self.incoming, prefix="upload-")

    def path(self, archive_id: str) -> Path | None:
        """Where a kept archive is, None for a malformed or unknown id."""
        if not _ID.fullmatch(archive_id):
            return None
        path = self.root / archive_id
        return path if path.is_file() else None

    def keep(self, upload: Any, archive_id: str) -> int:
        """Keep the received upload under ``archive_id``; returns its size in bytes."""
        if not _ID.fullmatch(archive_id):
            raise ValueError(f"bad archive id {archive_id!r}")
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.root / archive_id
        name = getattr(upload, "name", None)
        if isinstance(name, str) and Path(name).parent == self.incoming:
            upload.flush()
            os.link(name, target)  # same file system: no copy
        else:  # a small part werkzeug kept in memory
            upload.seek(0)
            with open(target, "wb") as out:
                while chunk := upload.read(1024 * 1024):
                    out.write(chunk)
        return target.stat().st_size

    def rename(self, archive_id: str, new_id: str) -> None:
        """Keep a kept archive under another id (atomic; the upload is kept under a
        fresh id before its deploy event exists, then named after the event)."""
        if not (_ID.fullmatch(archive_id) and _ID.fullmatch(new_id)):
            raise ValueError(f"bad archive ids {archive_id!r}, {new_id!r}")
        os.replace(self.root / archive_id, self.root / new_id)

    def remove(self, archive_id: str) -> None:
        if _ID.fullmatch(archive_id):
            (self.root / archive_id).unlink(missing_ok=True)

    def sweep(self, older_than: float = STALE_SECONDS) -> int:
        """Remove archives and half-received uploads older than ``older_than`` s."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for folder in (self.root, self.incoming):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                try:
                    if entry.is_file() and entry.stat().st_mtime < cutoff:
                        entry.unlink()
                        removed += 1
                except OSError:
                    continue  # removed meanwhile by another process
        return removed
