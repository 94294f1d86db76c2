"""The instance registry file (shared/instances.py): format, atomic writes, acks."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import instances as registry
from shared.instances import InstanceRecord, LiveUrls, Registry, RegistryError


def sample(generation: int = 3) -> Registry:
    return Registry(
        generation,
        {
            "auth": (
                InstanceRecord("auth", "http://127.0.0.1:1001"),
                InstanceRecord("auth-2", "http://127.0.0.1:1002", registry.DRAINING),
            ),
            "apps": (InstanceRecord("apps", "http://127.0.0.1:2001", registry.DOWN),),
        },
    )


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "run" / "instances.json"
    assert registry.read(path) is None
    registry.write(path, sample())
    assert registry.read(path) == sample()
    assert [p.name for p in path.parent.iterdir()] == ["instances.json"]  # no temp left


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"generation": "1", "services": {}}',
        '{"generation": 1, "services": []}',
        '{"generation": 1, "services": {"auth": [{"name": "a", "url": "u"}]}}',
        '{"generation": 1, "services": {"auth": [{"name": "a", "url": "u", "state": "odd"}]}}',
        '{"generation": 1, "services": {"auth": "x"}}',
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "instances.json"
    path.write_text(text)
    with pytest.raises(RegistryError):
        registry.read(path)


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "instances.json"
    path.write_bytes(b" " * (registry.MAX_BYTES + 1))
    with pytest.raises(RegistryError, match="larger"):
        registry.read(path)


def test_acknowledgements(tmp_path: Path) -> None:
    path = tmp_path / "instances.json"
    assert registry.read_acks(path) == {}
    registry.ack(path, -1, pid=101)
    registry.ack(path, 4, pid=102)
    registry.ack(path, 5, pid=101)
    assert registry.read_acks(path) == {101: 5, 102: 4}
    registry.drop_ack(path, 101)
    registry.drop_ack(path, 999)  # absent: nothing to do
    assert registry.read_acks(path) == {102: 4}


def test_live_urls_follow_the_file(tmp_path: Path) -> None:
    path = tmp_path / "instances.json"
    live = LiveUrls(path, "auth", ["http://boot:1"])
    assert live() == ("http://boot:1",)
    registry.write(path, sample(1))
    assert live() == ("http://127.0.0.1:1001",)  # draining ones get nothing new
    assert LiveUrls(path, "apps", [])() == ("http://127.0.0.1:2001",)  # only down: tried
    assert LiveUrls(path, "events", ["http://boot:9"])() == ("http://boot:9",)  # not listed
    path.write_text("{broken")
    assert live() == ("http://127.0.0.1:1001",)  # keeps the last set
    assert LiveUrls(None, "auth", ["http://boot:1"])() == ("http://boot:1",)
