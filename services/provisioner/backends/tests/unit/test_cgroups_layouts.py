"""Units' cgroups on the two layouts, over fake cgroup trees (the real v1 tree of these
machines is exercised by integration/test_process_units.py): v1 per controller, v2
(unified) in one group with the controllers delegated down to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.provisioner.backends.process import cgroups

LIMITS = {"memory": 256 << 20, "swap": 64 << 20, "cpu_milli": 500, "cpushare": 1024}


@pytest.fixture
def v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A unified hierarchy as the kernel shows its root: every controller offered, none
    enabled for the children yet."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    (tmp_path / "cgroup.procs").write_text("1\n")
    monkeypatch.setattr(cgroups, "BASE", str(tmp_path))
    return tmp_path


@pytest.fixture
def v1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hybrid machine: v1 hierarchies per controller, a v2 tree without them."""
    for controller in cgroups.CONTROLLERS:
        (tmp_path / controller).mkdir()
        (tmp_path / controller / "cgroup.procs").write_text("1\n")
    (tmp_path / "unified").mkdir()
    (tmp_path / "unified" / "cgroup.controllers").write_text("hugetlb\n")
    monkeypatch.setattr(cgroups, "BASE", str(tmp_path))
    return tmp_path


def read(path: Path) -> str:
    return path.read_text().strip()


def test_v2_one_group_with_every_limit_and_controllers_delegated_down_to_it(v2: Path) -> None:
    unit = v2 / "tsubame" / "stack1" / "shop-web-1-abc"
    unit.mkdir(parents=True)
    (unit / "memory.swap.max").write_text("max")  # swap accounting on
    procs = cgroups.create("stack1", "shop-web-1-abc", LIMITS)
    assert procs == dict.fromkeys(cgroups.CONTROLLERS, str(unit / "cgroup.procs"))
    assert cgroups.procs_files(procs) == [str(unit / "cgroup.procs")]
    assert read(unit / "memory.max") == str(256 << 20)
    assert read(unit / "memory.swap.max") == str(64 << 20)  # v2 counts swap alone
    assert read(unit / "cpu.weight") == "39"  # cpu.shares 1024, as runc converts it
    assert read(unit / "cpu.max") == "50000 100000"  # half a CPU
    assert read(unit / "pids.max") == str(cgroups.PIDS_MAX)
    for parent in (v2, v2 / "tsubame", v2 / "tsubame" / "stack1"):
        assert read(parent / "cgroup.subtree_control") == "+memory +cpu +pids"
    assert not (v2 / "memory").exists()  # nothing of the v1 layout


def test_v2_without_limits_and_without_swap_accounting(v2: Path) -> None:
    cgroups.create("stack1", "idle", {})
    unit = v2 / "tsubame" / "stack1" / "idle"
    assert read(unit / "memory.max") == "max"
    assert not (unit / "memory.swap.max").exists()
    assert read(unit / "cpu.weight") == "100"
    assert read(unit / "cpu.max") == "max 100000"


def test_v2_a_controller_not_offered_is_left_to_the_fallbacks(v2: Path) -> None:
    (v2 / "cgroup.controllers").write_text("cpu memory\n")
    procs = cgroups.create("stack1", "u1", LIMITS)
    assert sorted(procs) == ["cpu", "memory"]  # no pids controller: no process cap
    assert not (v2 / "tsubame" / "stack1" / "u1" / "pids.max").exists()


def test_v2_controllers_not_delegated_to_us_are_skipped(v2: Path) -> None:
    scope = v2 / "tsubame" / "stack1"
    scope.mkdir(parents=True)
    (scope / "cgroup.subtree_control").mkdir()  # every write to it fails
    assert cgroups.create("stack1", "u1", LIMITS) == {}


def test_v2_members_groups_and_oom_kills(v2: Path) -> None:
    cgroups.create("stack1", "u1", LIMITS)
    unit = v2 / "tsubame" / "stack1" / "u1"
    (unit / "cgroup.procs").write_text("4242\n4243\n")
    (unit / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n")
    assert cgroups.members("stack1", "u1") == {4242, 4243}
    assert cgroups.members("stack1") == {4242, 4243}
    assert cgroups.groups("stack1") == {"u1"}
    assert cgroups.existing("stack1", "u1") == [str(unit / "cgroup.procs")]
    assert cgroups.oom_kills("stack1", "u1") == 2
    assert cgroups.oom_kills("stack1", "other") == 0


def test_v1_is_used_where_its_hierarchies_are_mounted(v1: Path) -> None:
    procs = cgroups.create("stack1", "u1", LIMITS)
    assert procs == {c: str(v1 / c / "tsubame" / "stack1" / "u1" / "cgroup.procs") for c in procs}
    assert sorted(procs) == sorted(cgroups.CONTROLLERS)
    assert len(cgroups.procs_files(procs)) == 3
    assert read(v1 / "memory" / "tsubame" / "stack1" / "u1" / "memory.limit_in_bytes") == str(
        256 << 20
    )
    assert read(v1 / "cpu" / "tsubame" / "stack1" / "u1" / "cpu.shares") == "1024"
    assert read(v1 / "cpu" / "tsubame" / "stack1" / "u1" / "cpu.cfs_quota_us") == "50000"
    assert not (v1 / "tsubame").exists() and not (v1 / "unified" / "tsubame").exists()
    (v1 / "memory" / "tsubame" / "stack1" / "u1" / "memory.oom_control").write_text(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    )
    assert cgroups.oom_kills("stack1", "u1") == 3
    assert cgroups.groups("stack1") == {"u1"}


@pytest.mark.parametrize(
    ("shares", "weight"), [(0, 100), (2, 1), (1024, 39), (262144, 10000), (10**9, 10000)]
)
def test_cpu_shares_as_weights(shares: int, weight: int) -> None:
    assert cgroups.cpu_weight(shares) == weight
