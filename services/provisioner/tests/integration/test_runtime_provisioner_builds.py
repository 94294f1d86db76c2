"""A version another provisioner built (a pool move rebuilds only the versions that have
units) is built again once, from its kept archive, by whatever path starts units of it
first: unit-add, the reconciler, a rollback, an isolated app-run
(operations/runtime/builds.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest

from services.provisioner.domain.models import Pool
from services.provisioner.operations.runtime.reconcile import reconcile_pass
from services.provisioner.storage.memory import memory_stores
from services.provisioner.tests.runtime_support import Harness, harness

pytestmark = pytest.mark.integration

# What a docker build leaves as a version's reference (no release directory here).
DOCKER_REFERENCE = "tsuru/app-{app}:v{version}"


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        catalogue = memory_stores()
        catalogue.pools.add(Pool("default", default=True, provisioner="process"))
        catalogue.pools.add(Pool("dock", provisioner="docker"))
        yield replace(made, deps=replace(made.deps, catalogue=catalogue))


def _built_by_docker(h: Harness, app: str, version: int) -> str:
    """Mark ``version`` as the docker provisioner's build, as a move from a docker pool
    leaves it; its process release reference (a directory) is returned."""
    rt = h.deps.stores.runtimes.get(app)
    assert rt is not None
    kept = rt.releases[version]
    reference = DOCKER_REFERENCE.format(app=app, version=version)
    rt.releases[version] = replace(kept, provisioner="docker", reference=reference)
    assert h.deps.stores.runtimes.save(rt)
    return kept.reference


def _release(h: Harness, app: str, version: int) -> tuple[str, str]:
    rt = h.deps.stores.runtimes.get(app)
    assert rt is not None
    kept = rt.releases[version]
    return kept.provisioner, kept.reference


def test_units_added_to_a_version_another_provisioner_built_rebuild_it_once(h: Harness) -> None:
    spec = h.spec("added")
    assert h.deploy(spec, 1).error == ""
    assert h.deploy(spec, 2, new_version=True).error == ""
    _built_by_docker(h, "added", 1)
    out = h.run("units.add", spec, {"n": 1, "version": "1"})
    assert out.error == "", out.text
    assert out.text.count("Building image for version 1") == 1, out.text
    provisioner, reference = _release(h, "added", 1)
    assert provisioner == "process" and os.path.isdir(reference), reference
    ones = [s for s in h.deps.backend.units("added") if s.version == 1]
    assert len(ones) == 2 and all(s.status == "started" for s in ones), ones
    # Built once: the next units of the version start without a build.
    out = h.run("units.add", spec, {"n": 1, "version": "1"})
    assert out.error == "" and "Building image" not in out.text, out.text


def test_the_reconciler_rebuilds_such_a_version_before_starting_its_unit_again(
    h: Harness,
) -> None:
    spec = h.spec("healed")
    assert h.deploy(spec, 1).error == ""
    (unit,) = h.deps.stores.units.of_app("healed")
    _built_by_docker(h, "healed", 1)
    h.deps.backend.remove_unit(unit.id)  # its process is gone: the reconciler starts it
    reconcile_pass(h.deps)
    provisioner, reference = _release(h, "healed", 1)
    assert provisioner == "process" and os.path.isdir(reference), reference
    (state,) = h.deps.backend.units("healed")
    assert state.id == unit.id and state.status in ("starting", "started"), state


def test_a_pool_change_without_units_marks_older_versions_as_the_old_provisioner_s(
    h: Harness,
) -> None:
    spec = h.spec("built")
    out = h.deploy(spec, 1, build_only=True)
    assert out.error == "", out.text
    assert not h.deps.stores.units.of_app("built")
    # Built before versions recorded their provisioner ("": the app's current one).
    rt = h.deps.stores.runtimes.get("built")
    assert rt is not None and rt.releases[1].provisioner == "process"
    rt.releases[1] = replace(rt.releases[1], provisioner="")
    assert h.deps.stores.runtimes.save(rt)
    docked = replace(spec, pool="dock")
    assert h.run("update", docked, {}).error == ""
    provisioner, _ = _release(h, "built", 1)
    assert provisioner == "process"  # not docker's: built again when units start there
    out = h.run("deploy", docked, {"version": 1, "kind": "rollback"})
    assert "Building image for version 1" in out.text, out.text
    assert out.error == "No nodes found with one of the following metadata: pool=dock"
    # Back in a process pool, the process build serves as it is.
    assert h.run("update", spec, {}).error == ""
    out = h.run("deploy", spec, {"version": 1, "kind": "rollback"})
    assert out.error == "" and "Building image" not in out.text, out.text
    assert [s.version for s in h.deps.backend.units("built")] == [1]


def test_an_isolated_run_builds_such_a_version_first(h: Harness) -> None:
    spec = h.spec("isolated")
    assert h.deploy(spec, 1, build_only=True).error == ""
    assert not h.deps.stores.units.of_app("isolated")
    _built_by_docker(h, "isolated", 1)
    out = h.run("run", spec, {"command": "echo ran-here", "isolated": True})
    assert out.error == "", out.text
    assert out.text.count("Building image for version 1") == 1, out.text
    assert "ran-here" in out.text, out.text
    provisioner, reference = _release(h, "isolated", 1)
    assert provisioner == "process" and os.path.isdir(reference), reference
    out = h.run("run", spec, {"command": "echo again", "isolated": True})
    assert out.error == "" and "Building image" not in out.text, out.text
