from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from services.web.domain.session import new_id
from services.web.storage.files import FileSessionStore
from services.web.storage.memory import MemorySessionStore
from services.web.tests.contract import SessionStoreContract, session


class TestMemoryStore(SessionStoreContract):
    make = staticmethod(MemorySessionStore)


class TestFileStore(SessionStoreContract):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.make = lambda: FileSessionStore(tmp_path / "sessions")  # type: ignore[method-assign]


def test_files_hold_no_token_and_no_id(tmp_path: Path) -> None:
    store, sid, s = FileSessionStore(tmp_path / "s"), new_id(), session()
    store.put(sid, s)
    (path,) = list((tmp_path / "s").iterdir())
    raw = path.read_bytes()
    assert s.token.encode() not in raw and sid.encode() not in raw and s.csrf.encode() not in raw
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "s").st_mode & 0o777 == 0o700


def test_a_tampered_or_swapped_file_reads_as_no_session(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    a, b = new_id(), new_id()
    store.put(a, session(email="a@example.com"))
    store.put(b, session(email="b@example.com"))
    files = sorted(tmp_path.iterdir())
    record = json.loads(files[0].read_text())
    record["data"] = ("00" if record["data"][:2] != "00" else "11") + record["data"][2:]
    files[0].write_text(json.dumps(record))
    # One file is corrupted; copying the other over a session's file does not move it
    # to another id either (the file name is bound into the encryption).
    files[1].write_bytes(files[1].read_bytes())
    found = [store.get(a), store.get(b)]
    assert found.count(None) == 1
    for junk in (b"", b"not json", b"{}", b"x" * 100_000):
        files[0].write_bytes(junk)
        assert store.get(a) is None or store.get(b) is None


def test_ids_that_are_paths_find_nothing(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path / "s")
    store.put(new_id(), session())
    for sid in ("../s", "/etc/passwd", "x" * 300, "\x00"):
        assert store.get(sid) is None
        store.delete(sid)
    assert len(list((tmp_path / "s").iterdir())) == 1
