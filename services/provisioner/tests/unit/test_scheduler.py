"""The docker scheduler's choice (provisioning.md §4.3) and the healing limits."""

from __future__ import annotations

from services.provisioner.domain.infra import HealingConfig
from services.provisioner.domain.models import Node
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime.healer import DEFAULT_LIMIT, effective
from services.provisioner.operations.runtime.scheduler import choose

A, B, C = (Node(f"tcp://10.0.0.{i}:2375", "docker", "p") for i in (1, 2, 3))


def unit(uid: str, node: str, app: str = "shop", process: str = "web") -> Unit:
    return Unit(id=uid, app=app, process=process, version=1, node=node)


def test_an_apps_units_spread_first_then_go_to_the_emptier_node() -> None:
    assert choose([A, B, C], [], "shop", "web") == A.address
    placed = [unit("u1", A.address)]
    assert choose([A, B, C], placed, "shop", "web") == B.address
    # B and C have no unit of shop/web; C has fewer units at all.
    placed += [unit("o1", B.address, app="other")]
    assert choose([A, B, C], placed, "shop", "web") == C.address
    # Another process of the same app does not count as "same".
    assert choose([A, B], [unit("w1", A.address, process="worker")], "shop", "web") == B.address


def test_a_moved_unit_is_left_out_of_the_counts() -> None:
    placed = [unit("u1", A.address), unit("u2", A.address), unit("u3", B.address)]
    assert choose([A, B], placed, "shop", "web", skip_unit="u1") in (A.address, B.address)
    # u3 alone on B: left out, B is empty and A holds two: it stays on B.
    assert choose([A, B], placed, "shop", "web", skip_unit="u3") == B.address


def test_healing_limits_come_from_the_pool_entry_over_the_base() -> None:
    assert effective({}, "p") == (True, DEFAULT_LIMIT)
    base = HealingConfig(enabled=True, max_unresponsive_time=60)
    assert effective({"": base}, "p") == (True, 60.0)
    mine = HealingConfig(max_time_since_success=5)
    assert effective({"": base, "p": mine}, "p") == (True, 5.0)
    assert effective({"": base, "p": HealingConfig(enabled=False)}, "p")[0] is False


def test_a_node_containers_pool_entry_is_applied_over_its_base() -> None:
    from services.provisioner.operations.runtime.nodecontainers import effective

    base = {"Name": "nc", "PinnedImage": "", "Disabled": None,
            "Config": {"Image": "img:1", "Env": ["A=1"], "Cmd": None}}  # fmt: skip
    mine = {"Name": "nc", "PinnedImage": "", "Disabled": None,
            "Config": {"Image": "", "Env": ["B=2"], "Cmd": None}}  # fmt: skip
    got = effective({"": base, "p": mine}, "p")
    assert got is not None and got["Config"]["Image"] == "img:1"
    assert sorted(got["Config"]["Env"]) == ["A=1", "B=2"]
    assert effective({"": base, "p": {**mine, "Disabled": True}}, "p") is None
    assert effective({"p": mine}, "p") is None  # no image anywhere
    assert effective({"": base}, "other") == base
