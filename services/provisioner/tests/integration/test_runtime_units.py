"""Unit operations through the command interface on real parts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from services.provisioner.backends.tests.support import http_get, refused
from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.operations.runtime import state, unitcmds, unitset
from services.provisioner.tests.runtime_support import Harness, Traffic, harness, route_of
from shared.bus import keys

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        yield made


def statuses(h: Harness, app: str) -> list[str]:
    return [u.status for u in h.deps.stores.units.of_app(app)]


def test_units_up_to_three_and_down_to_one_under_traffic(h: Harness) -> None:
    spec = h.spec("scaled")
    assert h.deploy(spec, 1).error == ""
    with Traffic(h, "scaled") as traffic:
        added = h.run("units.add", spec, {"n": 2, "process": "web"})
        assert added.error == "", added.text
        assert len(route_of(h, "scaled")) == 3
        removed = h.run("units.remove", spec, {"n": 2})
        assert removed.error == "", removed.text
    assert "---- Removing 2 units ----" in removed.text
    assert len(route_of(h, "scaled")) == 1
    assert statuses(h, "scaled") == ["started"]
    assert traffic.failures == [] and traffic.ok > 20
    changed = [b for k, b in h.published if k == keys.UNITS_CHANGED and b["app"] == "scaled"]
    assert sum(len(b["added"]) for b in changed) == 3
    assert sum(len(b["removed"]) for b in changed) == 2
    rt = h.deps.stores.runtimes.get("scaled")
    assert rt is not None and rt.group("web", 1) is not None and rt.group("web", 1).units == 1


def test_units_add_run_again_after_a_dead_attempt_adds_once(h: Harness) -> None:
    spec = h.spec("again")
    assert h.deploy(spec, 1).error == ""
    rt = h.deps.stores.runtimes.get("again")
    assert rt is not None
    # A worker died while adding a unit: recorded, maybe started, the count not saved.
    (dead,) = unitset.record_units(h.deps, rt, "web", 1, 1)
    unitset.start(h.deps, rt, dead)
    added = h.run("units.add", spec, {"n": 1, "process": "web"})
    assert added.error == "", added.text
    units = h.deps.stores.units.of_app("again")
    assert [u.status for u in units] == ["started", "started"]
    assert dead.id not in {u.id for u in units}
    assert dead.id not in {s.id for s in h.deps.backend.units("again")}
    assert len(route_of(h, "again")) == 2


def _counted_by_a_dead_attempt(h: Harness, app: str, units: int, start: int = 0) -> Any:
    """What an attempt that died right after saving the new count left: ``start`` units
    started and recorded, the count ``units``, the change noted as the event's."""

    def left(event_id: str) -> None:
        rt = h.deps.stores.runtimes.get(app)
        assert rt is not None
        for unit in unitset.record_units(h.deps, rt, "web", 1, start):
            unitset.start(h.deps, rt, unit)
            # started and checked, as the attempt saw before it counted them
            deadline = time.monotonic() + 30
            while True:
                seen = {u.id: u for u in h.deps.backend.units(app)}.get(unit.id)
                if seen is not None and seen.status == "started" and seen.address:
                    h.deps.stores.units.update(unit.id, unitset.observed(seen))
                    break
                assert time.monotonic() < deadline, seen
                time.sleep(0.1)
        group = rt.group("web", 1)
        assert group is not None
        rt.put_group(replace(group, units=units))
        rt.extra[unitcmds.COUNTED_BY] = event_id
        state.save(h.deps, rt)

    return left


def test_units_add_run_again_after_its_count_was_saved_adds_nothing_more(h: Harness) -> None:
    spec = h.spec("counted")
    assert h.deploy(spec, 1).error == ""
    before = _counted_by_a_dead_attempt(h, "counted", units=2, start=1)
    added = h.run("units.add", spec, {"n": 1, "process": "web"}, before=before)
    assert added.error == "", added.text
    assert statuses(h, "counted") == ["started", "started"]
    assert len(route_of(h, "counted")) == 2


def test_units_remove_run_again_after_its_count_was_saved_removes_once(h: Harness) -> None:
    spec = h.spec("uncounted")
    assert h.deploy(spec, 1).error == ""
    assert h.run("units.add", spec, {"n": 2, "process": "web"}).error == ""
    newest = h.deps.stores.units.of_app("uncounted")[-1]
    # The attempt saved the count 2 and died before retiring the newest unit.
    before = _counted_by_a_dead_attempt(h, "uncounted", units=2)
    removed = h.run("units.remove", spec, {"n": 1, "process": "web"}, before=before)
    assert removed.error == "", removed.text
    units = h.deps.stores.units.of_app("uncounted")
    assert len(units) == 2 and newest.id not in {u.id for u in units}
    rt = h.deps.stores.runtimes.get("uncounted")
    assert rt is not None and rt.group("web", 1).units == 2  # type: ignore[union-attr]
    assert len(route_of(h, "uncounted")) == 2


def test_unit_operations_refuse_as_tsuru_does(h: Harness) -> None:
    spec = h.spec("refusing")
    assert h.run("units.add", spec, {"n": 1}).error == "no versions available for app"
    assert h.deploy(spec, 1).error == ""
    out = h.run("units.remove", spec, {"n": 3})
    assert out.error == 'cannot remove 3 units from process "web", only 1 available'
    assert h.run("units.add", spec, {"n": 1, "process": "nope"}).error == (
        'process error: no command declared in Procfile for process "nope"'
    )
    assert h.run("units.add", spec, {"n": 1, "version": 7}).error == "Invalid version: 7"
    assert h.run("units.add", spec, {"n": 0}).error == "n must be a positive integer"
    h.deps.stores.autoscale.put("refusing", AutoscaleSpec("web", 1, 3, "50%"))
    assert h.run("units.add", spec, {"n": 1, "process": "web"}).error == (
        "cannot add units to an app with autoscaler configured, please update autoscale settings"
    )
    h.deps.stores.autoscale.delete_app("refusing")
    assert h.run("stop", spec, {}).error == ""
    assert h.run("units.add", spec, {"n": 1}).error == (
        "Cannot add units to an app that has stopped or sleeping units"
    )


def test_stop_start_and_sleep(h: Harness) -> None:
    spec = h.spec("sleeper")
    assert h.deploy(spec, 1).error == ""
    address = route_of(h, "sleeper")[0]
    out = h.run("stop", spec, {})
    assert out.error == "" and out.text.startswith('\n ---> Stopping the app "sleeper"\n')
    assert route_of(h, "sleeper") == [] and refused(address)
    assert statuses(h, "sleeper") == ["stopped"]
    out = h.run("start", spec, {})
    assert out.error == "" and out.text.startswith('\n ---> Starting the app "sleeper"\n')
    assert statuses(h, "sleeper") == ["started"]
    assert http_get(route_of(h, "sleeper")[0])[0] == 200
    out = h.run("sleep", spec, {"proxy": "http://waker.example.com"})
    assert out.text.startswith('\n ---> Putting the app "sleeper" to sleep\n')
    assert statuses(h, "sleeper") == ["asleep"]
    stored = h.deps.stores.routes.get("sleeper")
    assert stored is not None and stored.backends == () and stored.asleep
    out = h.run("start", spec, {"process": "web"})
    assert out.text.startswith('\n ---> Starting the process "web"\n')
    assert statuses(h, "sleeper") == ["started"]


def test_restart_replaces_every_unit_with_the_new_env(h: Harness) -> None:
    spec = h.spec("restarted")
    assert h.deploy(spec, 1).error == ""
    before = {u.id for u in h.deps.stores.units.of_app("restarted")}
    changed = h.spec("restarted", env={"GREETING": "bonjour"})
    with Traffic(h, "restarted") as traffic:
        out = h.run("env", changed, {"restart": True})
    assert out.error == "" and out.text.startswith('---- Restarting the app "restarted" ----\n')
    after = {u.id for u in h.deps.stores.units.of_app("restarted")}
    assert after and not (after & before)
    status, body = http_get(route_of(h, "restarted")[0])
    assert status == 200 and "greeting=bonjour" in body
    assert traffic.failures == []
    out = h.run("restart", changed, {"process": "web"})
    assert out.text.startswith('---- Restarting process "web" ----\n')


def test_run_once_everywhere_and_isolated(h: Harness) -> None:
    spec = h.spec("runner")
    assert h.run("run", spec, {"command": "true"}).error == (
        "App must be available to run non-isolated commands"
    )
    assert h.deploy(spec, 1).error == ""
    assert h.run("units.add", spec, {"n": 1}).error == ""
    everywhere = h.run("run", spec, {"command": "echo unit=$HOSTNAME"})
    assert everywhere.error == "" and everywhere.text.count("unit=") == 2
    once = h.run("run", spec, {"command": "echo unit=$HOSTNAME", "once": True})
    assert once.text.count("unit=") == 1
    isolated = h.run("run", spec, {"command": "cat build.txt; echo $GREETING", "isolated": True})
    assert isolated.error == "" and "hook-ran-as-" in isolated.text
    failed = h.run("run", spec, {"command": "echo bad >&2; exit 4", "once": True})
    assert failed.error == "unexpected exit code: 4" and failed.result == {"exit_code": 4}
    assert "bad" in failed.text
    h.deps.app_log.flush()  # type: ignore[attr-defined]
    lines = [
        line
        for k, b in h.published
        if k == keys.UNIT_LOGS and b["app"] == "runner"
        for line in b["lines"]
    ]
    runs = [ln["Message"] for ln in lines if ln["Source"] == "app-run"]
    assert "running 'echo unit=$HOSTNAME'" in runs
    assert any(m.startswith("unit=runner-web-1-") for m in runs)


def test_version_remove_and_app_remove(h: Harness) -> None:
    spec = h.spec("gone")
    assert h.deploy(spec, 1).error == ""
    assert h.deploy(spec, 2, new_version=True).error == ""
    rt = h.deps.stores.runtimes.get("gone")
    assert rt is not None and rt.active_versions() == [1, 2] and rt.routable == [1]
    assert sorted(u.version for u in h.deps.stores.units.of_app("gone")) == [1, 2]
    assert h.run("version.remove", spec, {"version": 2}).error == ""
    assert [u.version for u in h.deps.stores.units.of_app("gone")] == [1]
    assert h.run("version.remove", spec, {"version": 9}).error == "Invalid version: 9"
    address = route_of(h, "gone")[0]
    assert h.run("remove", spec, {}).error == ""
    assert h.deps.stores.runtimes.get("gone") is None
    assert h.deps.stores.routes.get("gone") is None
    assert h.deps.stores.units.of_app("gone") == []
    assert h.deps.backend.units("gone") == []
    assert refused(address)
    assert h.run("remove", spec, {}).error == ""  # idempotent


def test_units_of_a_node_seen_silent_leave_the_route_at_once(h: Harness) -> None:
    from services.provisioner.operations.runtime.healer import unroute_node

    spec = h.spec("unrouted")
    assert h.deploy(spec, 1).error == ""
    assert h.run("units.add", spec, {"n": 1, "process": "web"}).error == ""
    first, second = h.deps.stores.units.of_app("unrouted")
    # The first unit as if it ran on a docker node that just stopped answering.
    h.deps.stores.units.update(first.id, {"node": "tcp://10.9.9.9:2375"})
    assert unroute_node(h.deps, "tcp://10.9.9.9:2375") == ["unrouted"]
    gone = h.deps.stores.units.get(first.id)
    assert gone is not None and gone.status == "error"
    assert "does not answer" in gone.status_detail
    assert route_of(h, "unrouted") == [second.address]
    last = [b for k, b in h.published if k == keys.ROUTES_CHANGED][-1]
    assert last["app"] == "unrouted" and last["route"]["backends"] == [second.address]
    # Nothing left to take out: no change, no message.
    assert unroute_node(h.deps, "tcp://10.9.9.9:2375") == []
