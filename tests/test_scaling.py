"""scripts/scaling.py: the kernel setting that keeps a scaled-away gateway's queued
connections (the knob is a file of the test's own here; the launcher's real one is
checked in tests/e2e/test_stack_scale_launcher.py)."""

from __future__ import annotations

from pathlib import Path

from scripts.scaling import migrate_queued_connections


def test_the_setting_is_turned_on_once(tmp_path: Path) -> None:
    knob = tmp_path / "tcp_migrate_req"
    knob.write_text("0\n")
    assert "turned on" in migrate_queued_connections({}, knob)
    assert knob.read_text().strip() == "1"
    assert migrate_queued_connections({}, knob) == "net.ipv4.tcp_migrate_req is on"


def test_the_operator_may_leave_it_alone(tmp_path: Path) -> None:
    knob = tmp_path / "tcp_migrate_req"
    knob.write_text("0\n")
    said = migrate_queued_connections({"TSUBAME_TCP_MIGRATE_REQ": "0"}, knob)
    assert "left as it is" in said
    assert knob.read_text() == "0\n"


def test_a_kernel_without_it_or_no_right_to_change_it_is_said(tmp_path: Path) -> None:
    said = migrate_queued_connections({}, tmp_path / "missing")  # a kernel before 5.14
    assert "could not be turned on" in said and "resets the connections" in said
    unwritable = tmp_path / "knob"
    unwritable.mkdir()  # read or written, an error as EACCES would be (root writes anything)
    assert "could not be turned on" in migrate_queued_connections({}, unwritable)
