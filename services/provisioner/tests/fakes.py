"""The provisioner bundle on fakes (memory stores, the memory event log, peers that
answer from dictionaries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.provisioner.operations.deps import AppRef, Config, Deps, Writer
from services.provisioner.storage.memory import memory_stores
from services.provisioner.storage.memory.runtime import memory_runtime_stores
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder, MemoryEventStorage


@dataclass
class FakeDirectory:
    teams: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def team_names(self) -> list[str]:
        return list(self.teams)

    def service_names(self) -> list[str]:
        return list(self.services)


@dataclass
class FakeApps:
    apps: dict[str, AppRef] = field(default_factory=dict)

    def pool_apps(self, pool: str) -> list[str]:
        return [a.name for a in self.apps.values() if a.pool == pool]

    def platform_apps(self, platform: str) -> list[str]:
        return [a.name for a in self.apps.values() if a.platform == platform]

    def app(self, name: str) -> AppRef | None:
        return self.apps.get(name)


@dataclass
class FakeRestarter:
    restarted: list[str] = field(default_factory=list)
    error: str = ""

    def restart(self, app: str, out: Writer) -> None:
        self.restarted.append(app)
        out.write(f'---- Restarting the app "{app}" ----\n')
        if self.error:
            raise RuntimeError(self.error)


@dataclass
class FakeUnits:
    """Unit objects, each with a ``node`` key naming where it runs (the fake's own)."""

    units: list[dict[str, Any]] = field(default_factory=list)

    def all(self) -> list[dict[str, Any]]:
        return list(self.units)

    def by_node(self, address: str) -> list[dict[str, Any]]:
        return [u for u in self.units if u.get("node") == address]

    def by_app(self, app: str) -> list[dict[str, Any]]:
        return [u for u in self.units if u.get("AppName") == app]


@dataclass
class FakeRuntimeCommands:
    """Records the worker commands a web operation sends; answers each with ``result``
    after writing ``lines`` (the worker's own moves are tested end to end)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def run(self, command: str, args: dict[str, Any], out: Any) -> dict[str, Any]:
        self.calls.append((command, dict(args)))
        for line in self.lines:
            out.write(line)
        return dict(self.result)


def fake_deps(
    storage: MemoryEventStorage | None = None,
    *,
    config: Config | None = None,
    teams: list[str] | None = None,
) -> Deps:
    return Deps(
        stores=memory_stores(),
        recorder=FakeRecorder(storage or MemoryEventStorage()),
        publisher=RecordingPublisher(),
        directory=FakeDirectory(list(teams or [])),
        apps=FakeApps(),
        restarter=FakeRestarter(),
        runtime=memory_runtime_stores(),
        units=FakeUnits(),
        config=config or Config(),
        runtime_commands=FakeRuntimeCommands(),
    )
