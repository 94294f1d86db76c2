"""The reconciler brings reality back to the desired state (real backend, real MongoDB)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from services.provisioner.backends.base import UnitSpec
from services.provisioner.backends.tests.support import http_get, refused
from services.provisioner.domain.runtime import STARTED, Group
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime.deploy import DeployArgs, build
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.progress import Progress
from services.provisioner.operations.runtime.reconcile import reconcile_pass
from services.provisioner.tests.runtime_support import Harness, harness, route_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        yield made


def until(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout}s: {what}")
        time.sleep(0.2)


def state_of(h: Harness, unit: str) -> dict[str, object]:
    path = h.deps.backend.layout.unit_dir(unit) / "state.json"  # type: ignore[attr-defined]
    return json.loads(path.read_text())


def serving(h: Harness, app: str) -> bool:
    backends = route_of(h, app)
    try:
        return bool(backends) and all(http_get(b, timeout=2)[0] == 200 for b in backends)
    except OSError:
        return False


def test_a_killed_unit_comes_back(h: Harness) -> None:
    spec = h.spec("phoenix")
    assert h.deploy(spec, 1).error == ""
    unit = h.deps.stores.units.of_app("phoenix")[0]
    os.kill(int(state_of(h, unit.id)["pid"]), signal.SIGKILL)  # the app process
    until(lambda: (reconcile_pass(h.deps), serving(h, "phoenix"))[1], what="app back")
    state = state_of(h, unit.id)
    os.kill(int(state["runner_pid"]), signal.SIGKILL)  # its supervisor too
    os.killpg(int(state["pid"]), signal.SIGKILL)
    until(lambda: (reconcile_pass(h.deps), serving(h, "phoenix"))[1], what="runner back")
    units = h.deps.stores.units.of_app("phoenix")
    assert [u.id for u in units] == [unit.id]  # the same unit, started again
    assert units[0].restarts >= 1


def test_orphans_and_unwanted_units_go_missing_ones_come(h: Harness) -> None:
    spec = h.spec("tidy")
    assert h.deploy(spec, 1).error == ""
    rt = h.deps.stores.runtimes.get("tidy")
    assert rt is not None
    release = rt.release(1)
    orphan = h.deps.backend.start_unit(
        UnitSpec(
            id="tidy-web-1-orphan00",
            app="tidy",
            process="web",
            version=1,
            release=release.release("tidy"),
            command=release.processes["web"],
            env=dict(rt.spec.env),
        )
    )
    unwanted = Unit(id="tidy-worker-1-nogroup0", app="tidy", process="worker", version=1)
    h.deps.stores.units.put(unwanted)
    rt.put_group(Group("web", 1, 2, STARTED))
    assert h.deps.stores.runtimes.save(rt)
    reconcile_pass(h.deps)
    ids = {u.id for u in h.deps.backend.units("tidy")}
    assert orphan.id not in ids
    assert h.deps.stores.units.get(unwanted.id) is None
    assert len(h.deps.stores.units.of_app("tidy")) == 2
    until(lambda: (reconcile_pass(h.deps), len(route_of(h, "tidy")) == 2)[1], what="2 routed")


def test_a_dead_deploys_units_go_and_the_old_version_keeps_serving(h: Harness) -> None:
    spec = h.spec("halfway")
    assert h.deploy(spec, 1).error == ""
    old = route_of(h, "halfway")
    # What a worker killed mid-deploy leaves: version 2 pending, its unit running, unrouted.
    rt = h.deps.stores.runtimes.get("halfway")
    assert rt is not None
    quiet = Progress("halfway", lambda _: None, None, h.deps.app_log)
    build(h.deps, rt, DeployArgs(2, "archive-url", archive_url=h.archive()), quiet)
    rt.put_group(Group("web", 2, 1, STARTED, pending="dead-attempt"))
    assert h.deps.stores.runtimes.save(rt)
    from services.provisioner.operations.runtime import unitset

    made = unitset.record_units(h.deps, rt, "web", 2, 1)
    started = unitset.start(h.deps, rt, made[0])
    # While the deploy's lease lives, the reconciler leaves it alone.
    lease = AppLease(h.deps, "halfway").acquire()
    reconcile_pass(h.deps)
    assert h.deps.stores.units.get(started.id) is not None
    lease.release()
    reconcile_pass(h.deps)
    assert h.deps.stores.units.get(started.id) is None
    assert started.id not in {u.id for u in h.deps.backend.units("halfway")}
    rt = h.deps.stores.runtimes.get("halfway")
    assert rt is not None and [g.key for g in rt.groups] == [("web", 1)]
    assert route_of(h, "halfway") == old and serving(h, "halfway")


def test_routes_are_rebuilt_and_removed_apps_cleaned(h: Harness) -> None:
    spec = h.spec("rebuilt")
    assert h.deploy(spec, 1).error == ""
    before = h.deps.stores.routes.get("rebuilt")
    assert before is not None
    h.deps.stores.routes.delete("rebuilt")
    reconcile_pass(h.deps)
    after = h.deps.stores.routes.get("rebuilt")
    assert after is not None and after.backends == before.backends and after.seq > before.seq
    address = after.backends[0]
    h.deps.stores.runtimes.delete("rebuilt")  # the app's desired state is gone
    reconcile_pass(h.deps)
    assert h.deps.stores.routes.get("rebuilt") is None
    assert h.deps.backend.units("rebuilt") == [] and h.deps.stores.units.of_app("rebuilt") == []
    assert refused(address)


def test_a_pass_with_nothing_to_do_takes_no_lease(h: Harness) -> None:
    spec = h.spec("quiet")
    assert h.deploy(spec, 1).error == ""
    until(lambda: reconcile_pass(h.deps).changed == 0, what="a quiet pass")
    lease = AppLease(h.deps, "quiet").acquire()
    try:
        stats = reconcile_pass(h.deps)
    finally:
        lease.release()
    assert stats.busy == 0 and stats.changed == 0


def test_the_backends_node_is_reported_to_the_catalogue(h: Harness) -> None:
    from dataclasses import replace

    from services.provisioner.domain.models import Pool
    from services.provisioner.operations.runtime.nodes import report_nodes
    from services.provisioner.storage.memory import memory_stores

    catalogue = memory_stores()
    catalogue.pools.add(Pool("theonepool"))
    catalogue.pools.claim_default("theonepool", force=True)
    deps = replace(h.deps, catalogue=catalogue)
    assert report_nodes(deps) == 1
    address = h.deps.backend.nodes()[0].address
    node = catalogue.nodes.get(address)
    assert node is not None
    assert (node.provisioner, node.pool, node.status) == ("process", "theonepool", "ready")
    assert node.checks and node.checks[-1].checks[0].successful
    assert report_nodes(deps) == 1 and len(catalogue.nodes.all()) == 1


def test_ticks_bring_a_killed_runner_back_without_a_full_pass(h: Harness) -> None:
    from services.provisioner.operations.runtime.reconcile import Reconciler

    spec = h.spec("ticker")
    assert h.deploy(spec, 1).error == ""
    reconciler = Reconciler(h.deps)
    assert reconciler.tick().full  # the first tick after start reads everything
    until(lambda: reconciler.tick().apps == 0, what="a quiet tick")
    unit = h.deps.stores.units.of_app("ticker")[0]
    state = state_of(h, unit.id)
    os.kill(int(state["runner_pid"]), signal.SIGKILL)
    os.killpg(int(state["pid"]), signal.SIGKILL)
    changed = 0

    def tick() -> bool:
        nonlocal changed
        stats = reconciler.tick()
        assert not stats.full  # the interval's full pass is a minute away
        changed += stats.changed
        return serving(h, "ticker")

    until(tick, what="runner back")
    assert changed >= 1
    assert [u.id for u in h.deps.stores.units.of_app("ticker")] == [unit.id]
