"""The reconciler's ticks read only the apps whose units changed or that a holder of their
lease touched; a full pass at start and every ``reconcile_full_interval`` reads all."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.provisioner.adapters.archives import HttpArchiveSource
from services.provisioner.adapters.healthcheck import HttpHealthChecker
from services.provisioner.adapters.host import LocalHost
from services.provisioner.adapters.usage import ProcessUsage
from services.provisioner.backends.base import (
    ERROR,
    STARTED,
    BackendError,
    LogLine,
    NodeInfo,
    UnitSpec,
    UnitState,
)
from services.provisioner.domain.appspec import AppSpec
from services.provisioner.domain.runtime import AppRuntime, Group, VersionRelease
from services.provisioner.operations.runtime.deps import RuntimeConfig, RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease, lease_key
from services.provisioner.operations.runtime.reconcile import PassStats, Reconciler
from services.provisioner.storage.memory.runtime import memory_runtime_stores
from services.provisioner.storage.runtime_ports import Lease
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder

FULL_INTERVAL = 60.0


class FakeBackend:
    """Units that run as soon as they are started, each on its own port."""

    name = "process"

    def __init__(self) -> None:
        self.states: dict[str, UnitState] = {}
        self.started: list[str] = []

    def units(self, app: str | None = None) -> list[UnitState]:
        return [s for s in self.states.values() if app is None or s.app == app]

    def start_unit(self, spec: UnitSpec) -> UnitState:
        port = 40000 + len(self.started)
        state = UnitState(
            spec.id, spec.app, spec.process, spec.version, "", STARTED, f"127.0.0.1:{port}"
        )
        self.states[spec.id] = state
        self.started.append(spec.id)
        return state

    def stop_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        self.states.pop(unit_id, None)

    def remove_unit(self, unit_id: str, *, timeout: float = 10.0) -> None:
        self.states.pop(unit_id, None)

    def nodes(self) -> list[NodeInfo]:
        return []


class Counted:
    """A store whose reads are counted by method and argument."""

    def __init__(self, inner: Any, reads: Counter[str], name: str) -> None:
        self._inner = inner
        self._reads = reads
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        found = getattr(self._inner, attr)
        if attr not in ("get", "all", "of_app", "of_apps"):
            return found

        def counted(*args: Any) -> Any:
            arg = ",".join(sorted(args[0])) if args and not isinstance(args[0], str) else ""
            self._reads[f"{self._name}.{attr}({args[0] if arg == '' and args else arg})"] += 1
            return found(*args)

        return counted


class Lines(list[tuple[str, str, str, str]]):
    """The app log: the lines written to it."""

    def unit_line(self, line: LogLine) -> None:
        self.append((line.app, line.source, line.unit, line.message))

    def write(self, app: str, source: str, unit: str, text: str) -> None:
        self.append((app, source, unit, text))

    def last_lines(self, units: Sequence[str], limit: int = 10) -> list[LogLine]:
        return []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def memory_deps(**fields: Any) -> RuntimeDeps:
    """Runtime deps on the memory stores and these fakes; ``fields`` replace any of them."""
    defaults: dict[str, Any] = {
        "stores": memory_runtime_stores(),
        "backend": FakeBackend(),
        "recorder": FakeRecorder(),
        "publisher": RecordingPublisher(),
        "archives": HttpArchiveSource(None),
        "health": HttpHealthChecker(),
        "app_log": Lines(),
        "usage": ProcessUsage("/nonexistent"),
        "host": LocalHost(),
    }
    defaults.update(fields)
    return RuntimeDeps(**defaults)


def make() -> tuple[RuntimeDeps, FakeBackend, Counter[str]]:
    stores = memory_runtime_stores()
    reads: Counter[str] = Counter()
    counted = replace(
        stores,
        runtimes=Counted(stores.runtimes, reads, "runtimes"),
        units=Counted(stores.units, reads, "units"),
        routes=Counted(stores.routes, reads, "routes"),
    )
    backend = FakeBackend()
    deps = memory_deps(
        stores=counted,
        backend=backend,
        config=RuntimeConfig(reconcile_full_interval=FULL_INTERVAL, lease_ttl=5.0),
    )
    for app in ("alpha", "beta", "gamma"):
        rt = AppRuntime(app, AppSpec(name=app))
        rt.releases[1] = VersionRelease(1, f"img-{app}", f"/r/{app}/1", {"web": "serve"})
        rt.groups = [Group("web", 1, 1, STARTED)]
        rt.routable = [1]
        stores.runtimes.create(rt)
    return deps, backend, reads


def settle(reconciler: Reconciler, reads: Counter[str]) -> None:
    """Tick until a tick looks at no app (what the first ones started is seen again)."""
    for _ in range(4):
        stats = reconciler.tick()
        if not stats.full and stats.apps == 0:
            reads.clear()
            return
    raise AssertionError("the reconciler never settled")


def tick(reconciler: Reconciler, reads: Counter[str]) -> tuple[PassStats, set[str]]:
    reads.clear()
    stats = reconciler.tick()
    return stats, {key for key in reads if key.startswith("runtimes.get(")}


def test_the_first_tick_is_a_full_pass_that_starts_what_is_missing() -> None:
    deps, backend, reads = make()
    stats = Reconciler(deps, clock=Clock()).tick()
    assert stats.full and stats.apps == 3 and stats.changed == 3
    assert reads["runtimes.all()"] == 1 and reads["units.all()"] == 1
    assert reads["routes.all()"] == 1
    assert sorted(s.app for s in backend.units()) == ["alpha", "beta", "gamma"]
    route = deps.stores.routes.get("beta")
    assert route is not None and route.backends == (backend.units("beta")[0].address,)


def test_a_quiet_tick_reads_no_app() -> None:
    deps, _backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    stats = reconciler.tick()
    assert (stats.full, stats.apps, stats.changed) == (False, 0, 0)
    assert reads == Counter()  # nothing read from the stores


def test_a_tick_reads_the_app_whose_unit_changed_and_follows_it() -> None:
    deps, backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    unit = backend.units("beta")[0]
    backend.states[unit.id] = replace(
        unit, status=ERROR, restarts=1, status_detail="exited with status 1"
    )
    stats, looked = tick(reconciler, reads)
    assert not stats.full and looked == {"runtimes.get(beta)"}
    assert reads["units.of_apps(beta)"] == 1 and "units.all()" not in reads
    record = deps.stores.units.get(unit.id)
    assert record is not None and (record.status, record.restarts) == (ERROR, 1)
    route = deps.stores.routes.get("beta")
    assert route is not None and route.backends == ()  # its only unit is down
    assert isinstance(deps.app_log, Lines)
    assert [(app, unit_id) for app, _, unit_id, text in deps.app_log if "status 1" in text] == [
        ("beta", unit.id)
    ]


def test_a_unit_gone_from_the_backend_is_started_again_on_the_next_tick() -> None:
    deps, backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    gone = backend.units("gamma")[0]
    del backend.states[gone.id]  # its supervisor died with it
    stats, looked = tick(reconciler, reads)
    assert looked == {"runtimes.get(gamma)"} and stats.changed == 1
    assert [s.id for s in backend.units("gamma")] == [gone.id]  # the same unit, again


def test_an_app_whose_lease_was_released_is_read_on_the_next_tick() -> None:
    deps, _backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    with AppLease(deps, "alpha"):  # a command worked on it (nothing the backend shows)
        pass
    stats, looked = tick(reconciler, reads)
    assert looked == {"runtimes.get(alpha)"} and stats.changed == 0
    _, looked = tick(reconciler, reads)
    assert looked == set()


def test_an_app_busy_with_a_command_is_looked_at_again_until_done() -> None:
    deps, backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    now = datetime.now(UTC)
    other = Lease(lease_key("beta"), "elsewhere:1:x", "elsewhere", 1, now + timedelta(minutes=1))
    assert deps.stores.leases.acquire(other, now)
    unit = backend.units("beta")[0]
    backend.states[unit.id] = replace(unit, restarts=3)
    stats, looked = tick(reconciler, reads)
    assert looked == {"runtimes.get(beta)"} and stats.busy == 1 and stats.retry == {"beta"}
    stats, looked = tick(reconciler, reads)  # nothing new seen: still retried
    assert looked == {"runtimes.get(beta)"} and stats.busy == 1
    deps.stores.leases.release(other.key, other.holder)
    stats, looked = tick(reconciler, reads)
    assert looked == {"runtimes.get(beta)"} and stats.changed == 1
    record = deps.stores.units.get(unit.id)
    assert record is not None and record.restarts == 3


def test_a_full_pass_comes_back_after_its_interval_and_repairs_what_no_tick_saw() -> None:
    deps, _backend, reads = make()
    clock = Clock()
    reconciler = Reconciler(deps, clock=clock)
    settle(reconciler, reads)
    lost = deps.stores.routes.get("alpha")
    assert lost is not None
    deps.stores.routes.delete("alpha")  # nothing a tick sees
    clock.now += FULL_INTERVAL - 1
    stats = reconciler.tick()
    assert not stats.full and deps.stores.routes.get("alpha") is None
    clock.now += 1
    stats = reconciler.tick()
    assert stats.full and stats.apps == 3
    route = deps.stores.routes.get("alpha")
    assert route is not None and route.backends == lost.backends


def test_a_failing_store_loses_no_touched_app() -> None:
    deps, _backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    deps.touched.mark(["gamma"])
    real = deps.stores.units

    class Down:
        def of_apps(self, apps: Any) -> Any:
            raise ConnectionError("database down")

    deps.stores = replace(deps.stores, units=Down())  # type: ignore[arg-type]
    try:
        reconciler.tick()
    except ConnectionError:
        pass
    else:
        raise AssertionError("the store's failure is the tick's")
    deps.stores = replace(deps.stores, units=real)
    _, looked = tick(reconciler, reads)
    assert looked == {"runtimes.get(gamma)"}


def test_a_unit_start_that_keeps_failing_is_retried_every_tick_and_logged_once_per_cause(
    caplog: Any,
) -> None:
    deps, backend, reads = make()
    reconciler = Reconciler(deps, clock=Clock())
    settle(reconciler, reads)
    gone = backend.units("gamma")[0]
    del backend.states[gone.id]
    why = ["the process backend is unavailable: its root is unusable"]
    real_start = backend.start_unit
    asked: list[str] = []

    def refused(spec: UnitSpec) -> UnitState:
        asked.append(spec.id)
        raise BackendError(why[0])

    backend.start_unit = refused  # type: ignore[method-assign]
    failures = []
    with caplog.at_level(logging.INFO, logger="services.provisioner.operations.runtime"):
        for _ in range(4):
            stats = reconciler.tick()
            failures.append((stats.failed, sorted(stats.retry)))
        logged = [r for r in caplog.records if "reconciling gamma failed" in r.getMessage()]
        assert failures == [(1, ["gamma"])] * 4  # retried every tick
        assert asked == [gone.id] * 4
        assert len(logged) == 1 and logged[0].levelno == logging.ERROR
        why[0] = "the process backend is unavailable: another reason"
        reconciler.tick()
        reconciler.tick()
        logged = [r for r in caplog.records if "reconciling gamma failed" in r.getMessage()]
        assert len(logged) == 2  # the new cause, once
        assert why[0] in (logged[1].exc_text or "")
        backend.start_unit = real_start  # type: ignore[method-assign]
        stats = reconciler.tick()
        assert stats.failed == 0 and [s.id for s in backend.units("gamma")] == [gone.id]
        backend.start_unit = refused  # type: ignore[method-assign]
        del backend.states[gone.id]
        reconciler.tick()
        reconciler.tick()
        logged = [r for r in caplog.records if "reconciling gamma failed" in r.getMessage()]
        assert len(logged) == 3  # failing again after a good pass: said again, once
