"""Unpacking a deployed archive, safely: every backend's first build step.

An uploaded archive is hostile until proven otherwise. ``unpack`` writes only inside
its destination: it refuses absolute names, ``..``, links that lead out, device files
and fifos, entries written through a symlink, and it stops at a bounded number of
entries and unpacked bytes (counted on the decompressed stream itself, so neither a
gzip bomb nor a huge pax header can exhaust memory or disk).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import posixpath
import stat
import tarfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.provisioner.backends.base import BuildError, Canceled

_CHUNK = 1 << 16
# Headers (512 bytes per entry, more for long names) on top of the file bytes.
_HEADER_ALLOWANCE = 4096


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int = 512 << 20  # unpacked file bytes
    max_files: int = 20_000  # entries of any kind


@dataclass(frozen=True)
class Unpacked:
    files: int
    bytes: int


class _Bounded(io.RawIOBase):
    """The decompressed stream, refusing to yield more than ``limit`` bytes."""

    def __init__(self, inner: IO[bytes] | io.BufferedIOBase, limit: int) -> None:
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise BuildError("archive too large: its unpacked content exceeds the limit")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _decompressed(raw: IO[bytes]) -> IO[bytes] | io.BufferedIOBase:
    magic = raw.read(6)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic[:3] == b"BZh":
        return bz2.BZ2File(raw, "rb")
    if magic == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw, "rb")
    return raw


def _member_path(name: str) -> str:
    """The entry's path relative to the archive root ('' for the root itself), or raise."""
    if name.startswith("/"):
        raise BuildError(f"archive entry {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BuildError(f"archive entry {name!r} escapes the app directory")
    return "/".join(parts)


def _link_inside(entry: str, target: str) -> str:
    """The path a symlink at ``entry`` pointing to ``target`` reaches, or raise."""
    if target.startswith("/"):
        raise BuildError(f"archive entry {entry!r} is a link to an absolute path")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry), target))
    if resolved == ".." or resolved.startswith("../"):
        raise BuildError(f"archive entry {entry!r} is a link pointing outside the app directory")
    return "" if resolved == "." else resolved


def _prepare_parent(
    dest: Path, rel: str, owner: tuple[int, int] | None, *, create: bool = True
) -> Path:
    """Create the parents of ``rel`` as real directories (never through a symlink)."""
    current = dest
    for part in rel.split("/")[:-1]:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            if not create:
                raise BuildError(f"archive entry {rel!r} does not exist") from None
            os.mkdir(current, 0o750)
            if owner:
                os.lchown(current, *owner)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise BuildError(f"archive entry {rel!r} is reached through a link or a file")
    return dest / rel


def _clear(path: Path, rel: str) -> None:
    """Make room for a new entry: a later entry replaces a file or link, never a dir."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise BuildError(f"archive entry {rel!r} replaces a directory")
    os.unlink(path)


def unpack(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    limits: ArchiveLimits = ArchiveLimits(),
    *,
    owner: tuple[int, int] | None = None,
    cancel: threading.Event | None = None,
) -> Unpacked:
    """Unpack a (gzip, bzip2, xz or plain) tar archive into the existing ``dest``.

    Files get mode 0640 (0750 when executable by their owner), directories 0750; with
    ``owner`` (uid, gid) every entry is owned by it. Raises BuildError with a message
    for the user; ``dest`` may then hold a part of the archive (callers unpack into a
    fresh directory and delete it on failure).
    """
    root = Path(dest)
    files = 0
    total = 0
    links: list[tuple[str, Path]] = []
    try:
        with open(archive, "rb") as raw:
            stream = _Bounded(
                _decompressed(raw), limits.max_bytes + _HEADER_ALLOWANCE * (limits.max_files + 2)
            )
            buffered = io.BufferedReader(stream, _CHUNK)
            with tarfile.open(fileobj=buffered, mode="r|") as tar:
                for member in tar:
                    if cancel is not None and cancel.is_set():
                        raise Canceled("canceled")
                    files += 1
                    if files > limits.max_files:
                        raise BuildError(
                            f"archive has too many entries (more than {limits.max_files})"
                        )
                    total += _extract(tar, member, root, limits.max_bytes - total, owner)
                    if member.issym():
                        links.append((member.name, root / _member_path(member.name)))
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as exc:
        raise BuildError(f"invalid archive: {exc}") from exc
    except OSError as exc:
        if isinstance(exc, BuildError):
            raise
        raise BuildError(f"invalid archive: {exc.strerror or exc}") from exc
    _check_links(root, links)
    return Unpacked(files=files, bytes=total)


def _check_links(root: Path, links: list[tuple[str, Path]]) -> None:
    """Each link checked alone stays inside, but a chain can still climb out (``x/s ->
    ..`` then ``x/l -> s/../..``): resolve every link as the kernel will, once all exist."""
    top = os.path.realpath(root)
    for name, path in links:
        try:
            os.lstat(path)
        except FileNotFoundError:
            continue  # replaced by a later entry
        resolved = os.path.realpath(path)
        if resolved != top and not resolved.startswith(top + os.sep):
            raise BuildError(f"archive entry {name!r} is a link pointing outside the app directory")


def _extract(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    root: Path,
    budget: int,
    owner: tuple[int, int] | None,
) -> int:
    rel = _member_path(member.name)
    if member.ischr() or member.isblk():
        raise BuildError(f"archive entry {member.name!r} is a device file")
    if member.isfifo():
        raise BuildError(f"archive entry {member.name!r} is a fifo")
    if rel == "":
        if member.isdir():
            return 0
        raise BuildError(f"archive entry {member.name!r} is not a directory")
    target = _prepare_parent(root, rel, owner)
    chown: Callable[[Path], None] = (
        (lambda p: os.lchown(p, *owner)) if owner else (lambda p: None)  # noqa: E731
    )
    if member.isdir():
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            os.mkdir(target, 0o750)
            chown(target)
            return 0
        if not stat.S_ISDIR(st.st_mode):
            raise BuildError(f"archive entry {member.name!r} replaces a file or link")
        return 0
    if member.issym():
        _link_inside(rel, member.linkname)
        _clear(target, rel)
        os.symlink(member.linkname, target)
        chown(target)
        return 0
    if member.islnk():
        source_rel = _member_path(member.linkname)
        source = _prepare_parent(root, source_rel, None, create=False) if source_rel else root
        try:
            st = os.lstat(source)
        except FileNotFoundError:
            raise BuildError(
                f"archive entry {member.name!r} is a hard link to a missing or outside file"
            ) from None
        if not stat.S_ISREG(st.st_mode) or source_rel == "":
            raise BuildError(f"archive entry {member.name!r} is a hard link to a non-file")
        _clear(target, rel)
        os.link(source, target)
        return 0
    if not member.isreg():
        raise BuildError(f"archive entry {member.name!r} has an unsupported type")
    if member.size > budget:
        raise BuildError("archive too large: its unpacked content exceeds the limit")
    _clear(target, rel)
    mode = 0o750 if member.mode & 0o100 else 0o640
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as out:
        if owner:
            os.fchown(out.fileno(), *owner)
        os.fchmod(out.fileno(), mode)  # the umask must not narrow it
        source_file = tar.extractfile(member)
        if source_file is not None:
            while chunk := source_file.read(_CHUNK):
                out.write(chunk)
    os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
    return member.size
