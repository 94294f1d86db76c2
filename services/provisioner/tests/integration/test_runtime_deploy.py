"""Deploys through the command interface on real parts (MongoDB, the process backend)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from services.provisioner.backends.tests.support import http_get
from services.provisioner.tests.runtime_support import GREETING, Harness, harness
from shared.bus import keys

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        yield made


def route(h: Harness, app: str) -> list[str]:
    found = h.deps.stores.routes.get(app)
    return list(found.backends) if found else []


def test_deploy_serves_http_and_routes_the_unit(h: Harness) -> None:
    spec = h.spec("first")
    out = h.deploy(spec, 1)
    assert out.error == "", out.text
    assert out.result["version"] == 1
    assert out.result["image"] == "tsubame/app-first:v1"
    assert out.result["processes"] == {"web": "python3 app.py"}
    assert "---- Building image ----" in out.text
    assert "---- Starting 1 new unit [web: 1] ----" in out.text
    assert "healthcheck successful(" in out.text
    assert "---- Adding routes to new units ----" in out.text
    backends = route(h, "first")
    assert len(backends) == 1
    status, body = http_get(backends[0])
    assert status == 200 and f"greeting={GREETING}" in body and "build=hook-ran-as-" in body
    stored = h.deps.stores.routes.get("first")
    assert stored is not None and stored.hosts == ("first.apps.test",)
    assert keys.ROUTES_CHANGED in h.published.keys()
    finished = [b for k, b in h.published if k == keys.DEPLOY_FINISHED and b["app"] == "first"]
    assert finished[-1]["error"] == "" and finished[-1]["result"]["version"] == 1
    event = h.recorder.last()
    assert event.error == "" and not event.running
    assert event.end_custom_data == {"image": "tsubame/app-first:v1"}
    units = h.deps.stores.units.of_app("first")
    assert [(u.process, u.version, u.status) for u in units] == [("web", 1, "started")]


def test_second_deploy_replaces_units_without_a_gap(h: Harness) -> None:
    spec = h.spec("second")
    assert h.deploy(spec, 1).error == ""
    old = route(h, "second")
    failures: list[str] = []
    stop = False

    def hammer() -> None:
        while not stop:
            backends = route(h, "second")
            try:
                status, _ = http_get(backends[0], timeout=2)
                if status != 200:
                    failures.append(str(status))
            except OSError as exc:
                failures.append(repr(exc))
            time.sleep(0.02)

    import threading

    t = threading.Thread(target=hammer)
    t.start()
    try:
        out = h.deploy(spec, 2, extra={"build.txt": None})
    finally:
        stop = True
        t.join()
    assert out.error == "", out.text
    new = route(h, "second")
    assert new and new != old
    assert "---- Removing 1 old unit ----" in out.text
    assert [u.version for u in h.deps.stores.units.of_app("second")] == [2]
    assert failures == []


def test_failing_healthcheck_leaves_the_previous_version(h: Harness) -> None:
    spec = h.spec("failing")
    assert h.deploy(spec, 1).error == ""
    before = route(h, "failing")
    bad = h.spec("failing", env={"HEALTHCHECK_STATUS": "500"})
    out = h.deploy(bad, 2)
    assert "---- ERROR during deploy: ----" in out.error
    assert "healthcheck fail(" in out.error
    assert "wrong status code, expected 200, got: 500" in out.error
    assert "**** ROLLING BACK AFTER FAILURE ****" in out.text
    assert route(h, "failing") == before
    status, _ = http_get(before[0])
    assert status == 200
    units = h.deps.stores.units.of_app("failing")
    assert [u.version for u in units] == [1]
    rt = h.deps.stores.runtimes.get("failing")
    assert rt is not None and rt.routable == [1] and [g.version for g in rt.groups] == [1]
    assert h.recorder.last().error == out.error
