"""The log forwarder looks at a quiet unit once a second, at a talking one every round."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.provisioner.backends.base import LogLine
from services.provisioner.backends.process import logreader, unitfs
from services.provisioner.backends.process.layout import Layout


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(logreader, "time", fake)
    return fake


def say(unit: Path, text: str) -> None:
    with open(unit / unitfs.OUTPUT, "ab") as f:
        f.write(unitfs.format_line(text.encode(), 1.0))


def test_a_quiet_unit_is_looked_at_once_a_second_and_a_talking_one_every_round(
    tmp_path: Path, clock: Clock
) -> None:
    layout = Layout(str(tmp_path), (1000, 1000))
    unit = layout.units / "shop-web-1-abc"
    unit.mkdir(parents=True)
    (unit / unitfs.SPEC).write_text(json.dumps({"app": "shop", "process": "web"}))
    (layout.units / "shop-web-2-new").mkdir()  # being made: no spec yet, not claimed
    got: list[LogLine] = []
    forwarder = logreader.LogForwarder(layout, got.append)
    try:
        say(unit, "hello")
        forwarder._round()
        assert [line.message for line in got] == ["hello"]
        assert set(forwarder._held) == {"shop-web-1-abc"}
        clock.now += logreader.QUIET_AFTER + 0.1  # silent since: quiet
        forwarder._round()  # looked at (nothing new)
        say(unit, "after a silence")
        clock.now += 0.2
        forwarder._round()
        assert len(got) == 1  # not looked at within the second
        clock.now += logreader.QUIET_INTERVAL
        forwarder._round()
        assert [line.message for line in got] == ["hello", "after a silence"]
        say(unit, "talking again")
        clock.now += 0.2
        forwarder._round()  # it talked: every round again
        assert got[-1].message == "talking again" and got[-1].app == "shop"
        say(unit, "last words")
        forwarder.flush("shop-web-1-abc")  # a unit removed is read at once, quiet or not
        assert got[-1].message == "last words"
    finally:
        forwarder.close()
