"""The unit directory's small file formats: lines, rotation, states, process identity."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from services.provisioner.backends.process import unitfs


def test_splitter_keeps_partial_lines_and_cuts_long_ones() -> None:
    s = unitfs.LineSplitter()
    assert s.feed(b"one\ntw") == [b"one"]
    assert s.feed(b"o\r\nthree") == [b"two"]
    assert s.flush() == [b"three"]
    assert s.flush() == []
    long = b"x" * (unitfs.MAX_LINE * 2 + 5)
    assert s.feed(long) == [b"x" * unitfs.MAX_LINE] * 2
    assert s.feed(b"\n") == [b"x" * 5]


def test_line_format_round_trip() -> None:
    raw = unitfs.format_line("héllo wörld".encode(), when=1700000000.25)
    assert raw.endswith(b"\n")
    assert unitfs.parse_line(raw[:-1]) == (1700000000.25, "héllo wörld")
    when, text = unitfs.parse_line(b"garbage-without-stamp")
    assert text == "garbage-without-stamp" and when > 0


def test_rotating_log_keeps_one_backup(tmp_path: Path) -> None:
    path = str(tmp_path / "out.log")
    log = unitfs.RotatingLog(path, max_bytes=4096)
    first_inode = os.stat(path).st_ino
    log.write([b"a" * 1500] * 3)  # rotates between lines, never inside one
    assert os.stat(path + ".1").st_ino == first_inode
    assert os.path.getsize(path + ".1") == 3000 and os.path.getsize(path) == 1500
    log.write([b"b" * 1500] * 3)
    assert not os.path.exists(path + ".2")
    assert os.path.getsize(path) <= 4096 and os.path.getsize(path + ".1") <= 4096
    log.write([b"c" * 10000])  # one line longer than the limit: its own file
    assert os.path.getsize(path) == 10000
    log.write([b"d"])
    assert os.path.getsize(path) == 1
    log.close()


def test_write_json_is_atomic_and_private(tmp_path: Path) -> None:
    path = str(tmp_path / "s.json")
    unitfs.write_json(path, {"a": 1}, 0o600)
    assert unitfs.read_json(path) == {"a": 1}
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    (tmp_path / "bad.json").write_text("[1, 2")
    assert unitfs.read_json(str(tmp_path / "bad.json")) is None
    (tmp_path / "list.json").write_text("[1, 2]")
    assert unitfs.read_json(str(tmp_path / "list.json")) is None


def test_process_identity_survives_pid_reuse_checks() -> None:
    me = os.getpid()
    start = unitfs.proc_start(me)
    assert start is not None and unitfs.alive(me, start)
    assert not unitfs.alive(me, start + 1)  # same pid, another process
    child = subprocess.Popen(["sleep", "30"])
    child_start = unitfs.proc_start(child.pid)
    child.kill()
    child.wait()
    assert not unitfs.alive(child.pid, child_start)
    assert unitfs.proc_start(0) is None and not unitfs.alive(None, None)


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen(["sleep", "0.2"])
    start = unitfs.proc_start(child.pid)
    assert start is not None
    deadline = time.monotonic() + 5
    while unitfs.proc_start(child.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.02)  # exited but not reaped yet: a zombie, so not alive
    assert not unitfs.alive(child.pid, start)
    assert os.path.exists(f"/proc/{child.pid}")  # still there, as a zombie
    child.wait()
