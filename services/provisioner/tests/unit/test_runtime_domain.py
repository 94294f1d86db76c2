"""Pure rules of the runtime: autoscale, deploy unit counts, the reconciler's plan, routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.provisioner.backends.base import UnitState
from services.provisioner.domain.appspec import AppSpec, PlanSpec
from services.provisioner.domain.autoscale import (
    AutoscaleSpec,
    cpu_target,
    desired_units,
    usage_of_target,
    validate,
)
from services.provisioner.domain.reconcile import plan
from services.provisioner.domain.routes import route_for
from services.provisioner.domain.runtime import (
    ASLEEP,
    STARTED,
    STOPPED,
    AppRuntime,
    Group,
    VersionRelease,
    counts_for_deploy,
)
from services.provisioner.domain.runtime_errors import (
    AutoscaleInvalid,
    InvalidCommand,
    InvalidProcess,
    UnitStartup,
    log_line,
)
from services.provisioner.domain.units import Unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def release(version: int, **processes: str) -> VersionRelease:
    return VersionRelease(version, f"img:v{version}", f"/r/{version}", processes or {"web": "w"})


def runtime(*groups: Group, routable: tuple[int, ...] = (1,)) -> AppRuntime:
    rt = AppRuntime(app="shop", spec=AppSpec(name="shop", cnames=("www.shop.com",)))
    rt.releases = {1: release(1, web="w", worker="k"), 2: release(2, web="w")}
    rt.groups = list(groups)
    rt.routable = list(routable)
    return rt


def unit(uid: str, process: str = "web", version: int = 1, minutes: int = 0, **kw: object) -> Unit:
    return Unit(uid, "shop", process, version, created_at=T0 + timedelta(minutes=minutes), **kw)  # type: ignore[arg-type]


def seen(
    uid: str, status: str = "started", address: str = "127.0.0.1:1", **kw: object
) -> UnitState:
    return UnitState(uid, "shop", "web", 1, "local", status, address, **kw)  # type: ignore[arg-type]


# --- autoscale (tsuru's AutoScaleSpec) ---


@pytest.mark.parametrize(
    ("cpu", "milli", "target"),
    [("70%", 1000, 70), ("70", 1000, 70), ("700m", 1000, 70), ("70%", 0, 700), ("250m", 0, 250)],
)
def test_cpu_target(cpu: str, milli: int, target: int) -> None:
    assert cpu_target(AutoscaleSpec("web", 1, 2, cpu), milli) == target


@pytest.mark.parametrize(
    ("spec", "quota", "milli", "why"),
    [
        (AutoscaleSpec("web", 0, 2, "50%"), 0, 0, "minimum units must be greater than 0"),
        (
            AutoscaleSpec("web", 2, 2, "50%"),
            0,
            0,
            "maximum units must be greater than minimum units",
        ),
        (
            AutoscaleSpec("web", 1, 5, "50%"),
            4,
            0,
            "maximum units cannot be greater than quota limit",
        ),
        (
            AutoscaleSpec("web", 1, 5, "96%"),
            0,
            500,
            "autoscale cpu value cannot be greater than 95%",
        ),
        (AutoscaleSpec("web", 1, 5, "19"), 0, 500, "autoscale cpu value cannot be less than 20%"),
        (
            AutoscaleSpec("web", 1, 5, "lots"),
            0,
            0,
            'unable to parse value "lots" as autoscale cpu percentage',
        ),
    ],
)
def test_autoscale_validation_texts(spec: AutoscaleSpec, quota: int, milli: int, why: str) -> None:
    with pytest.raises(AutoscaleInvalid) as err:
        validate(spec, quota, milli)
    assert str(err.value) == f"unable to validate autoscale spec: {why}"


def test_autoscale_decision_follows_the_hpa_rule() -> None:
    spec = AutoscaleSpec("web", 1, 5, "50%")
    assert usage_of_target(400.0, spec, 0) == pytest.approx(0.8)  # 400m of a 500m target
    assert desired_units(2, 2.0, spec) == 4
    assert desired_units(2, 1.05, spec) == 2  # within the tolerance
    assert desired_units(4, 0.2, spec) == 1
    assert desired_units(4, 9.0, spec) == 5  # bounded by max
    assert desired_units(0, 1.0, spec) == 1
    with_limit = AutoscaleSpec("web", 1, 5, "50%")
    assert usage_of_target(250.0, with_limit, 500) == pytest.approx(1.0)  # 50% of 500m


def test_autoscale_spec_json_roundtrip_and_refusals() -> None:
    raw = {"process": "web", "minUnits": 1, "maxUnits": 3, "averageCPU": "70%", "version": 2}
    assert AutoscaleSpec.from_json(raw).to_json() == raw
    with pytest.raises(InvalidCommand):
        AutoscaleSpec.from_json({"minUnits": -1})
    with pytest.raises(InvalidCommand):
        AutoscaleSpec.from_json(["not", "an", "object"])


# --- app spec ---


def test_app_spec_refuses_what_no_unit_could_start_from() -> None:
    good = {"name": "shop", "env": {"A": "1"}, "plan": {"memory": 1}, "cnames": ["WWW.Shop.com"]}
    spec = AppSpec.from_json(good)
    assert spec.cnames == ("www.shop.com",) and spec.plan == PlanSpec(memory=1)
    assert AppSpec.from_json(spec.to_json()) == spec
    for bad in (
        {"name": "../etc"},
        {"name": "Shop"},
        {"name": "shop", "env": {"A": 1}},
        {"name": "shop", "plan": {"memory": -1}},
        {"name": "shop", "cnames": ["a/b"]},
        {"name": "shop", "env": {str(i): "x" for i in range(1001)}},
        "shop",
    ):
        with pytest.raises(InvalidCommand):
            AppSpec.from_json(bad)


# --- deploy counts and process names ---


def test_new_version_takes_the_replaced_counts_and_new_processes_get_one() -> None:
    rt = runtime(Group("web", 1, 3), Group("worker", 1, 2))
    new = release(2, web="w", clock="c")
    assert counts_for_deploy(rt, new, {1}) == {"web": 3, "clock": 1}
    assert counts_for_deploy(rt, new, set()) == {"web": 1, "clock": 1}


def test_process_names_as_tsuru_resolves_them() -> None:
    assert release(1, web="w").process_name("") == "web"
    assert release(1, worker="k").process_name("") == "worker"
    assert release(1, web="w", worker="k").process_name("") == "web"
    with pytest.raises(InvalidProcess) as err:
        release(1, a="1", b="2").process_name("")
    assert (
        str(err.value)
        == "process error: no process name specified and more than one declared in Procfile"
    )


# --- reconciler plan ---


def test_plan_starts_missing_stops_unwanted_and_creates_what_lacks() -> None:
    rt = runtime(Group("web", 1, 3), Group("worker", 1, 1, STOPPED))
    records = [
        unit("a", minutes=1, status="started", node="local"),
        unit("b", minutes=2),
        unit("w", "worker", status="started"),
    ]
    observed = [seen("a"), seen("w", status="started"), seen("stray")]
    todo = plan(rt, records, observed)
    assert [u.id for u in todo.start] == ["b"]  # never seen running
    assert [u.id for u in todo.stop] == ["w"]
    assert todo.create == {("web", 1): 1}
    assert todo.orphans == ["stray"]
    assert todo.statuses["a"] == {"address": "127.0.0.1:1"}


def test_plan_removes_extras_newest_first_and_units_of_unknown_groups() -> None:
    rt = runtime(Group("web", 1, 1))
    records = [unit("old", minutes=1), unit("new", minutes=2), unit("v2", version=2)]
    todo = plan(rt, records, [seen("old"), seen("new")])
    assert sorted(u.id for u in todo.remove) == ["new", "v2"]


def test_plan_leaves_pending_groups_unless_their_deploy_is_dead() -> None:
    rt = runtime(Group("web", 1, 1), Group("web", 2, 1, pending="attempt"))
    records = [
        unit("a", status="started", address="127.0.0.1:1", node="local"),
        unit("p", version=2),
    ]
    observed = [seen("a"), seen("p")]
    assert not plan(rt, records, observed)
    stale = plan(rt, records, observed, pending_stale=True)
    assert stale.stale_pending == [("web", 2)] and [u.id for u in stale.remove] == ["p"]


def test_plan_restarts_a_unit_whose_supervisor_died_not_one_in_backoff() -> None:
    rt = runtime(Group("web", 1, 2))
    records = [unit("dead"), unit("backoff")]
    observed = [seen("dead", status="error", address=""), seen("backoff", status="error")]
    assert [u.id for u in plan(rt, records, observed).start] == ["dead"]


def test_plan_reports_a_unit_its_supervisor_restarted() -> None:
    rt = runtime(Group("web", 1, 2))
    records = [unit("shop-web-1-0badcafe", restarts=1), unit("shop-web-1-00c0ffee", restarts=2)]
    detail = "killed by signal 9 (SIGKILL) (out of memory)"
    observed = [
        seen("shop-web-1-0badcafe", restarts=2, status_detail=detail),
        seen("shop-web-1-00c0ffee", restarts=2),
    ]
    todo = plan(rt, records, observed)
    assert todo.crashes == {
        "shop-web-1-0badcafe": f"unit 0badcafe [web] {detail}; restarted (2 restarts in all)\n"
    }
    assert todo.statuses["shop-web-1-0badcafe"]["restarts"] == 2


def test_plan_without_a_runtime_removes_everything() -> None:
    todo = plan(None, [unit("a")], [seen("a"), seen("b")])
    assert [u.id for u in todo.remove] == ["a"] and todo.orphans == ["b"]


def test_asleep_units_are_recorded_asleep() -> None:
    rt = runtime(Group("web", 1, 1, ASLEEP))
    todo = plan(rt, [unit("a", status="started")], [seen("a", status="stopped", address="")])
    assert todo.statuses["a"]["status"] == "asleep" and not todo.stop


# --- routes ---


def test_route_holds_started_web_units_of_routable_versions() -> None:
    rt = runtime(Group("web", 1, 2), Group("worker", 1, 1), Group("web", 2, 1), routable=(1,))
    units = [
        unit("a", status="started", address="127.0.0.1:1"),
        unit("b", status="starting", address="127.0.0.1:2"),
        unit("c", status="started", address="127.0.0.1:3", draining=True),
        unit("k", "worker", status="started", address="127.0.0.1:4"),
        unit("v2", version=2, status="started", address="127.0.0.1:5"),
    ]
    route = route_for(rt, units, "Apps.Test")
    assert route.hosts == ("shop.apps.test", "www.shop.com")
    assert route.backends == ("127.0.0.1:1",) and not route.asleep
    rt.address = "other"  # swapped
    assert route_for(rt, units, "apps.test").hosts[0] == "other.apps.test"
    rt.groups = [Group("web", 1, 2, ASLEEP)]
    assert route_for(rt, [], "apps.test").asleep


def test_unit_startup_error_as_tsuru_prints_it() -> None:
    line = log_line(T0, "web", "shop-web-1-abcd", "boom")
    assert line.startswith("    ") and line.endswith(" [web][shop-web-1-abcd]: boom")
    err = UnitStartup("deploy", "healthcheck fail(abcd): timeout", [line])
    assert str(err) == (
        "\n---- ERROR during deploy: ----\nhealthcheck fail(abcd): timeout\n"
        f"\n---- Last 1 log messages: ----\n{line}"
    )
    assert str(UnitStartup("restart", "x")) == "\n---- ERROR during restart: ----\nx\n"
    assert STARTED == "started"
