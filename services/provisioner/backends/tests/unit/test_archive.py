"""The archive checks: what unpacks, and every way out that is refused."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from services.provisioner.backends.archive import ArchiveLimits, unpack
from services.provisioner.backends.base import BuildError, Canceled

Entry = Callable[[tarfile.TarFile], None]


def file(name: str, data: bytes = b"x", mode: int = 0o644) -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), mode
        tar.addfile(info, io.BytesIO(data))

    return add


def special(name: str, kind: bytes, linkname: str = "") -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            info.devmajor, info.devminor = 1, 3
        tar.addfile(info)

    return add


def directory(name: str) -> Entry:
    return special(name, tarfile.DIRTYPE)


def symlink(name: str, target: str) -> Entry:
    return special(name, tarfile.SYMTYPE, target)


def hardlink(name: str, target: str) -> Entry:
    return special(name, tarfile.LNKTYPE, target)


def archive(tmp_path: Path, *entries: Entry, fmt: int = tarfile.GNU_FORMAT) -> Path:
    path = tmp_path / "app.tar.gz"
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        for add in entries:
            add(tar)
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def test_unpacks_files_dirs_and_inner_links(tmp_path: Path, dest: Path) -> None:
    path = archive(
        tmp_path,
        directory("./"),
        directory("pkg"),
        file("pkg/mod.py", b"print(1)\n"),
        file("run.sh", b"#!/bin/sh\n", mode=0o4755),  # setuid is dropped
        symlink("link", "pkg/mod.py"),
        symlink("pkg/up", "../run.sh"),
        hardlink("copy.py", "pkg/mod.py"),
        file("nested/deep/a.txt", b"a"),  # parents made implicitly
    )
    done = unpack(path, dest)
    assert done.files == 8 and done.bytes == len(b"print(1)\n") + len(b"#!/bin/sh\n") + 1
    assert (dest / "pkg/mod.py").read_bytes() == b"print(1)\n"
    assert (dest / "link").read_bytes() == b"print(1)\n"
    assert (dest / "pkg/up").read_bytes() == b"#!/bin/sh\n"
    assert os.stat(dest / "copy.py").st_ino == os.stat(dest / "pkg/mod.py").st_ino
    assert stat.S_IMODE(os.stat(dest / "run.sh").st_mode) == 0o750
    assert stat.S_IMODE(os.stat(dest / "pkg/mod.py").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(dest / "nested").st_mode) == 0o750
    assert (dest / "nested/deep/a.txt").read_bytes() == b"a"


def test_a_later_entry_replaces_an_earlier_file(tmp_path: Path, dest: Path) -> None:
    unpack(archive(tmp_path, file("a", b"old"), file("a", b"new")), dest)
    assert (dest / "a").read_bytes() == b"new"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_entries_are_owned_by_the_given_user(tmp_path: Path, dest: Path) -> None:
    unpack(archive(tmp_path, file("d/a"), symlink("l", "d/a")), dest, owner=(4242, 4343))
    for name in ("d", "d/a", "l"):
        st = os.lstat(dest / name)
        assert (st.st_uid, st.st_gid) == (4242, 4343), name


@pytest.mark.parametrize(
    "entries, message",
    [
        ([file("../evil")], "escapes the app directory"),
        ([file("a/../../evil")], "escapes the app directory"),
        ([file("/etc/evil")], "absolute path"),
        ([directory("../d")], "escapes the app directory"),
        ([symlink("l", "/etc/passwd")], "link to an absolute path"),
        ([symlink("l", "../../etc/passwd")], "link pointing outside"),
        ([symlink("a/l", "../../x")], "link pointing outside"),
        # Each link alone stays inside; the chain climbs out.
        ([directory("x"), symlink("x/s", ".."), symlink("x/l", "s/../..")], "outside"),
        # Writing through an (inner) link is refused: it could be swapped later.
        ([directory("sub"), symlink("d", "sub"), file("d/f")], "reached through a link"),
        ([hardlink("h", "../../etc/passwd")], "escapes the app directory"),
        ([hardlink("h", "/etc/passwd")], "absolute path"),
        ([hardlink("h", "missing")], "hard link to a missing"),
        ([directory("sub"), hardlink("h", "sub")], "hard link to a non-file"),
        ([directory("x"), symlink("x/s", ".."), hardlink("h", "x/s/a")], "through a link"),
        ([special("dev", tarfile.CHRTYPE)], "device file"),
        ([special("dev", tarfile.BLKTYPE)], "device file"),
        ([special("pipe", tarfile.FIFOTYPE)], "fifo"),
        ([directory("d"), file("d")], "replaces a directory"),
        ([file("f"), directory("f")], "replaces a file"),
    ],
)
def test_hostile_entries_are_refused(
    tmp_path: Path, dest: Path, entries: list[Entry], message: str
) -> None:
    outside = tmp_path / "evil"
    with pytest.raises(BuildError, match=message):
        unpack(archive(tmp_path, *entries), dest)
    assert not outside.exists()
    assert not (tmp_path.parent / "evil").exists()


def test_too_many_entries(tmp_path: Path, dest: Path) -> None:
    path = archive(tmp_path, *(file(f"f{i}") for i in range(11)))
    with pytest.raises(BuildError, match="too many entries"):
        unpack(path, dest, ArchiveLimits(max_bytes=1 << 20, max_files=10))
    unpack(path, dest, ArchiveLimits(max_bytes=1 << 20, max_files=11))


def test_too_many_bytes(tmp_path: Path, dest: Path) -> None:
    path = archive(tmp_path, file("a", b"x" * 600), file("b", b"x" * 600))
    with pytest.raises(BuildError, match="too large"):
        unpack(path, dest, ArchiveLimits(max_bytes=1000, max_files=10))
    unpack(path, dest, ArchiveLimits(max_bytes=1200, max_files=10))


def test_a_decompression_bomb_stops_at_the_limit(tmp_path: Path, dest: Path) -> None:
    # A pax header of 8 MiB of one letter: tiny compressed, and tarfile would read it
    # into memory whole; the bounded stream stops long before.
    def bomb(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("a")
        info.pax_headers = {"comment": "A" * (8 << 20)}
        tar.addfile(info, io.BytesIO(b""))

    path = archive(tmp_path, bomb, fmt=tarfile.PAX_FORMAT)
    assert path.stat().st_size < 64 << 10
    with pytest.raises(BuildError, match="too large"):
        unpack(path, dest, ArchiveLimits(max_bytes=1 << 20, max_files=10))


@pytest.mark.parametrize(
    "content",
    [b"not an archive at all", gzip.compress(b"not a tar inside")[:-3], b""],
)
def test_garbage_is_an_invalid_archive(tmp_path: Path, dest: Path, content: bytes) -> None:
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(content)
    with pytest.raises(BuildError, match="invalid archive"):
        unpack(path, dest)


def test_plain_and_other_compressions(tmp_path: Path, dest: Path) -> None:
    for mode in ("w", "w:bz2", "w:xz"):
        path = tmp_path / f"a.{mode}.tar"
        with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
            file(f"f-{mode}", b"ok")(tar)
        unpack(path, dest)
        assert (dest / f"f-{mode}").read_bytes() == b"ok"


def test_cancel_stops_unpacking(tmp_path: Path, dest: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Canceled):
        unpack(archive(tmp_path, file("a")), dest, cancel=cancel)


def test_strange_unicode_names_are_kept(tmp_path: Path, dest: Path) -> None:
    names = ["café/ñ.txt", "日本語.txt", "emoji-🚀", "space name", "tab\tname"]
    unpack(archive(tmp_path, *(file(n, n.encode()) for n in names)), dest)
    for name in names:
        assert (dest / name).read_bytes() == name.encode()
