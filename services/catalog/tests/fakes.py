"""The catalog bundle on fakes."""

from __future__ import annotations

from services.catalog.operations.deps import Deps
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder


def fake_deps() -> Deps:
    return Deps(recorder=FakeRecorder(), publisher=RecordingPublisher())
