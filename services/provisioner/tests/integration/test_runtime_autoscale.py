"""Unit autoscale evaluated from the measured CPU time of real units."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.operations.runtime.autoscaler import Autoscaler
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


def evaluate(scaler: Autoscaler, pause: float = 1.0) -> None:
    scaler.evaluate()  # first sample
    time.sleep(pause)
    scaler.evaluate()


def test_a_busy_process_scales_up_within_its_maximum(h: Harness) -> None:
    spec = h.spec("busy")
    out = h.deploy(spec, 1, extra={"burn.py": BURN, "Procfile": "web: python3 burn.py\n"})
    assert out.error == "", out.text
    # No CPU limit in the plan: "5%" is 50 milli-cores per unit; a burning thread uses
    # far more even on a loaded machine.
    h.deps.stores.autoscale.put("busy", AutoscaleSpec("web", 1, 3, "5%"))
    scaler = Autoscaler(h.deps)
    evaluate(scaler)
    rt = h.deps.stores.runtimes.get("busy")
    assert rt is not None and rt.group("web", 1) is not None
    assert rt.group("web", 1).units == 3  # type: ignore[union-attr]
    assert len(route_of(h, "busy")) == 3
    decisions = scaler.evaluate()
    assert all(d.wanted <= 3 for d in decisions)


def test_an_idle_process_is_brought_within_its_bounds(h: Harness) -> None:
    spec = h.spec("idle")
    assert h.deploy(spec, 1).error == ""
    assert h.run("units.add", spec, {"n": 3}).error == ""
    h.deps.stores.autoscale.put("idle", AutoscaleSpec("web", 2, 3, "50%"))
    scaler = Autoscaler(h.deps)
    evaluate(scaler)
    rt = h.deps.stores.runtimes.get("idle")
    assert rt is not None and rt.group("web", 1).units == 2  # type: ignore[union-attr]
    assert len(h.deps.stores.units.of_app("idle")) == 2
    assert len(route_of(h, "idle")) == 2
