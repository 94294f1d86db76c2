"""The provisioner bundle on fakes (memory stores, the memory event log)."""

from __future__ import annotations

from services.provisioner.operations.deps import Config, Deps
from services.provisioner.storage.memory import memory_stores
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder, MemoryEventStorage


def fake_deps(storage: MemoryEventStorage | None = None, *, config: Config | None = None) -> Deps:
    return Deps(
        stores=memory_stores(),
        recorder=FakeRecorder(storage or MemoryEventStorage()),
        publisher=RecordingPublisher(),
        config=config or Config(),
    )
