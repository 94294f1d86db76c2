"""Unit autoscale evaluated from the measured CPU time of real units."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator

import pytest

from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.operations.runtime.autoscaler import Autoscaler, Decision
from services.provisioner.tests.runtime_support import Harness, harness, route_of

pytestmark = pytest.mark.integration

BURN = """import runpy, threading

def burn():
    while True:
        pass

threading.Thread(target=burn, daemon=True).start()
runpy.run_path("app.py", run_name="__main__")
"""


@pytest.fixture(scope="module")
def h(mongo_url: str, namespace: str) -> Iterator[Harness]:
    with harness(mongo_url, namespace) as made:
        yield made


def units_of(h: Harness, app: str) -> int:
    rt = h.deps.stores.runtimes.get(app)
    group = rt.group("web", 1) if rt is not None else None
    return group.units if group is not None else 0


def evaluate_until(
    scaler: Autoscaler, app: str, reached: Callable[[], bool], timeout: float = 120.0
) -> list[Decision]:
    """Evaluate as the worker's loop does, each pass measuring the CPU time used since the
    one before (over a 1 s window here), until ``reached()``; the decisions taken. One
    window is not enough: on a loaded machine a burning unit may get less than twice its
    target in it (76 milli-CPU was seen), which is one more unit, not two; the next
    passes take it the rest of the way, as the real loop does. The decisions on ``app``."""
    decisions = of_app(scaler.evaluate(), app)  # the first sample: within min/max, no usage
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(1.0)  # the window the next pass measures, not a wait for a state
        decisions += of_app(scaler.evaluate(), app)
        if reached():
            return decisions
        assert time.monotonic() < deadline, f"{app} not scaled in {timeout}s: {decisions}"


def of_app(decisions: list[Decision], app: str) -> list[Decision]:
    return [d for d in decisions if d.app == app]


def test_a_busy_process_scales_up_within_its_maximum(h: Harness) -> None:
    app = f"busy-{secrets.token_hex(3)}"  # each run its own app: the harness is shared
    spec = h.spec(app)
    out = h.deploy(spec, 1, extra={"burn.py": BURN, "Procfile": "web: python3 burn.py\n"})
    assert out.error == "", out.text
    # No CPU limit in the plan: "5%" is 50 milli-cores per unit; a burning thread uses
    # more (each unit added burns too).
    h.deps.stores.autoscale.put(app, AutoscaleSpec("web", 1, 3, "5%"))
    scaler = Autoscaler(h.deps)
    try:
        decisions = evaluate_until(scaler, app, lambda: units_of(h, app) == 3)
        assert decisions[-1].wanted == 3, decisions
        assert len(h.deps.stores.units.of_app(app)) == 3
        assert len(route_of(h, app)) == 3
        decisions += of_app(scaler.evaluate(), app)
        assert all(d.wanted <= 3 for d in decisions), decisions
    finally:
        h.run("remove", spec)  # its units burn no CPU under the tests that follow


def test_an_idle_process_is_brought_within_its_bounds(h: Harness) -> None:
    app = f"idle-{secrets.token_hex(3)}"
    spec = h.spec(app)
    assert h.deploy(spec, 1).error == ""
    assert h.run("units.add", spec, {"n": 3}).error == ""
    h.deps.stores.autoscale.put(app, AutoscaleSpec("web", 2, 3, "50%"))
    scaler = Autoscaler(h.deps)
    decisions = evaluate_until(scaler, app, lambda: units_of(h, app) == 2)
    assert (decisions[0].current, decisions[0].wanted) == (4, 3), decisions  # the maximum
    assert all(d.wanted >= 2 for d in decisions), decisions
    assert len(h.deps.stores.units.of_app(app)) == 2
    assert len(route_of(h, app)) == 2
