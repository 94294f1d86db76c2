"""The one contract suite every storage implementation passes (STYLE §5).

Subclass ``StorageContract`` and provide a ``stores`` fixture returning fresh, empty
``Stores``; see ``unit/test_storage_memory.py`` and ``integration/test_storage_mongo.py``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from services.provisioner.domain import errors
from services.provisioner.domain.models import (
    Constraint,
    DynamicRouter,
    HealthBatch,
    HealthCheck,
    Node,
    Plan,
    Platform,
    PlatformVersion,
    Pool,
)
from services.provisioner.storage.ports import Stores

NOW = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)


class StorageContract:
    # --- pools ---
    def test_pool_roundtrip_order_and_duplicate(self, stores: Stores) -> None:
        for name in ("zeta", "alpha", "mid"):
            stores.pools.add(Pool(name, labels={"a.b": "1", "$x": "2"}))
        with pytest.raises(errors.PoolExists):
            stores.pools.add(Pool("alpha"))
        assert [p.name for p in stores.pools.all()] == ["zeta", "alpha", "mid"]
        got = stores.pools.get("alpha")
        assert got == Pool("alpha", labels={"a.b": "1", "$x": "2"})
        assert stores.pools.get("nope") is None

    def test_pool_default_flag(self, stores: Stores) -> None:
        stores.pools.add(Pool("a", default=True))  # the flag is not taken by add
        stores.pools.add(Pool("b"))
        assert stores.pools.default_name() is None
        assert stores.pools.claim_default("a", force=False) is None
        assert stores.pools.claim_default("a", force=False) is None  # already its own
        with pytest.raises(errors.DefaultPoolExists):
            stores.pools.claim_default("b", force=False)
        assert stores.pools.claim_default("b", force=True) == "a"
        assert [p.name for p in stores.pools.all() if p.default] == ["b"]
        assert stores.pools.get("a").default is False  # type: ignore[union-attr]
        assert not stores.pools.release_default("a")
        assert stores.pools.release_default("b")
        assert stores.pools.default_name() is None
        assert stores.pools.claim_default("a", force=False) is None

    def test_deleting_the_default_pool_frees_the_flag(self, stores: Stores) -> None:
        stores.pools.add(Pool("a"))
        stores.pools.add(Pool("b"))
        stores.pools.claim_default("a", force=False)
        assert stores.pools.delete("a")
        assert not stores.pools.delete("a")
        assert stores.pools.default_name() is None
        assert stores.pools.claim_default("b", force=False) is None
        assert stores.pools.default_name() == "b"

    def test_concurrent_default_claims_leave_one_default(self, stores: Stores) -> None:
        names = [f"p{i}" for i in range(20)]
        for n in names:
            stores.pools.add(Pool(n))

        def claim(name: str) -> bool:
            try:
                stores.pools.claim_default(name, force=False)
                return True
            except errors.DefaultPoolExists:
                return False

        with ThreadPoolExecutor(8) as ex:
            won = [n for n, ok in zip(names, ex.map(claim, names), strict=True) if ok]
        assert len(won) == 1
        assert [p.name for p in stores.pools.all() if p.default] == won

    def test_pool_labels_and_provisioner(self, stores: Stores) -> None:
        stores.pools.add(Pool("a", provisioner="process"))
        assert stores.pools.set_labels("a", {"k": "v"})
        assert stores.pools.set_provisioner("a", "docker")
        assert stores.pools.get("a") == Pool("a", provisioner="docker", labels={"k": "v"})
        assert not stores.pools.set_labels("nope", {})
        assert not stores.pools.set_provisioner("nope", "x")

    # --- constraints ---
    def test_constraint_set_replace_delete(self, stores: Stores) -> None:
        stores.constraints.set(Constraint("prod-*", "router", ("r1", "r1", "r2")))
        stores.constraints.set(Constraint("*", "team", ("t",), blacklist=True))
        assert stores.constraints.get("prod-*", "router") == Constraint(
            "prod-*", "router", ("r1", "r2")
        )
        stores.constraints.set(Constraint("prod-*", "router", ("x",), blacklist=True))
        assert stores.constraints.get("prod-*", "router") == Constraint(
            "prod-*", "router", ("x",), True
        )
        assert [c.pool_expr for c in stores.constraints.all()] == ["prod-*", "*"]
        assert [c.field for c in stores.constraints.for_field("team")] == ["team"]
        stores.constraints.set(Constraint("prod-*", "router", ("",)))
        assert stores.constraints.get("prod-*", "router") is None
        stores.constraints.set(Constraint("*", "team", ()))
        assert stores.constraints.all() == []

    def test_constraint_append_and_remove(self, stores: Stores) -> None:
        stores.constraints.append("p", "team", ["a", "b"])
        stores.constraints.append("p", "team", ["b", "c"])
        assert stores.constraints.get("p", "team") == Constraint("p", "team", ("a", "b", "c"))
        stores.constraints.set(Constraint("q", "team", ("x",), blacklist=True))
        stores.constraints.append("q", "team", ["y"])
        assert stores.constraints.get("q", "team") == Constraint("q", "team", ("x", "y"), True)
        assert stores.constraints.remove_values("p", "team", ["a", "c", "zz"])
        assert stores.constraints.get("p", "team") == Constraint("p", "team", ("b",))
        assert not stores.constraints.remove_values("none", "team", ["a"])
        assert stores.constraints.delete("p", "team")
        assert not stores.constraints.delete("p", "team")

    def test_constraint_keys_are_field_and_expression(self, stores: Stores) -> None:
        stores.constraints.set(Constraint("a|b", "team", ("1",)))
        stores.constraints.set(Constraint("a", "team", ("2",)))
        stores.constraints.set(Constraint("a", "plan", ("3",)))
        assert stores.constraints.get("a|b", "team").values == ("1",)  # type: ignore[union-attr]
        assert stores.constraints.get("a", "plan").values == ("3",)  # type: ignore[union-attr]
        assert len(stores.constraints.all()) == 3

    # --- plans ---
    def test_plans_sorted_default_and_duplicate(self, stores: Stores) -> None:
        stores.plans.add(Plan("b", memory=1, swap=2, cpumilli=3, cpushare=4))
        stores.plans.add(Plan("a", default=True))
        with pytest.raises(errors.PlanExists):
            stores.plans.add(Plan("a"))
        assert [p.name for p in stores.plans.all()] == ["a", "b"]
        assert stores.plans.get("b") == Plan("b", 1, 2, 3, 4)
        assert stores.plans.default() == Plan("a", default=True)
        stores.plans.add(Plan("c", default=True))
        assert [p.name for p in stores.plans.all() if p.default] == ["c"]
        assert stores.plans.delete("c")
        assert stores.plans.default() is None
        assert not stores.plans.delete("c")
        assert stores.plans.get("c") is None

    # --- platforms ---
    def test_platform_roundtrip_versions(self, stores: Stores) -> None:
        stores.platforms.add(Platform("python"))
        stores.platforms.add(Platform("go", disabled=True))
        with pytest.raises(errors.PlatformExists):
            stores.platforms.add(Platform("python"))
        assert [(p.name, p.disabled) for p in stores.platforms.all()] == [
            ("python", False), ("go", True),
        ]  # fmt: skip
        assert stores.platforms.next_version("python") == 1
        assert stores.platforms.next_version("python") == 2
        assert stores.platforms.next_version("nope") == 0
        v1 = PlatformVersion(1, ("tsuru/python:v1", "tsuru/python:latest"), "FROM x", NOW)
        assert stores.platforms.add_version("python", v1)
        assert not stores.platforms.add_version("python", v1)  # one entry per version
        assert stores.platforms.add_version("python", PlatformVersion(2, ("tsuru/python:v2",)))
        got = stores.platforms.get("python")
        assert got is not None and got.versions[0] == v1
        assert got.images() == ["tsuru/python:v1", "tsuru/python:latest", "tsuru/python:v2"]
        assert stores.platforms.drop_version("python", 2)
        assert not stores.platforms.drop_version("python", 2)
        assert stores.platforms.get("python").current == v1  # type: ignore[union-attr]
        assert stores.platforms.next_version("python") == 3  # never given twice
        assert stores.platforms.set_disabled("python", True)
        assert stores.platforms.get("python").disabled  # type: ignore[union-attr]
        assert not stores.platforms.set_disabled("nope", True)
        assert stores.platforms.delete("python")
        assert not stores.platforms.delete("python")

    def test_platform_versions_race(self, stores: Stores) -> None:
        stores.platforms.add(Platform("python"))
        with ThreadPoolExecutor(8) as ex:
            got = list(ex.map(lambda _: stores.platforms.next_version("python"), range(20)))
        assert sorted(got) == list(range(1, 21))

    # --- dynamic routers ---
    def test_routers(self, stores: Stores) -> None:
        stores.routers.add(DynamicRouter("r2", "api", ("g",), {"url": "http://x", "a.b": {"c": 1}}))
        stores.routers.add(DynamicRouter("r1", "planb"))
        with pytest.raises(errors.DynamicRouterExists):
            stores.routers.add(DynamicRouter("r1", "api"))
        assert [r.name for r in stores.routers.all()] == ["r1", "r2"]
        assert stores.routers.get("r2") == DynamicRouter(
            "r2", "api", ("g",), {"url": "http://x", "a.b": {"c": 1}}
        )
        assert stores.routers.replace(DynamicRouter("r1", "api", (), {"k": None}))
        assert stores.routers.get("r1") == DynamicRouter("r1", "api", (), {"k": None})
        assert not stores.routers.replace(DynamicRouter("nope", "api"))
        assert stores.routers.delete("r1")
        assert not stores.routers.delete("r1")
        assert stores.routers.get("r1") is None

    # --- nodes ---
    def test_nodes(self, stores: Stores) -> None:
        n1 = Node("http://10.0.0.1:2375", "docker", "p1", "waiting", {"pool": "p1", "a.b": "c"})
        stores.nodes.add(n1)
        stores.nodes.add(Node("local://host", "process", "p2"))
        with pytest.raises(errors.NodeExists) as exc:
            stores.nodes.add(Node("http://10.0.0.1:2375", "kubernetes"))
        assert 'already exists in provisioner "docker"' in str(exc.value)
        assert stores.nodes.get("http://10.0.0.1:2375") == n1
        assert [n.address for n in stores.nodes.all()] == ["http://10.0.0.1:2375", "local://host"]
        assert [n.address for n in stores.nodes.by_pool("p2")] == ["local://host"]
        assert stores.nodes.update(
            "http://10.0.0.1:2375", pool="p2", metadata={"pool": "p2"}, status="disabled"
        )
        got = stores.nodes.get("http://10.0.0.1:2375")
        assert got is not None and (got.pool, got.status, got.metadata) == (
            "p2", "disabled", {"pool": "p2"},
        )  # fmt: skip
        assert not stores.nodes.update("nope", pool="", metadata={}, status="")
        # The runtime's status never overrides a disabled node.
        assert not stores.nodes.set_status("http://10.0.0.1:2375", "ready")
        stores.nodes.update("http://10.0.0.1:2375", pool="p2", metadata={}, status="waiting")
        assert stores.nodes.set_status("http://10.0.0.1:2375", "ready")
        assert not stores.nodes.set_status("http://10.0.0.1:2375", "ready")
        assert stores.nodes.get("http://10.0.0.1:2375").status == "ready"  # type: ignore[union-attr]
        assert not stores.nodes.set_status("nope", "ready")
        assert stores.nodes.delete("local://host")
        assert not stores.nodes.delete("local://host")

    def test_node_report_and_health(self, stores: Stores) -> None:
        stores.nodes.report(Node("local://h", "process", "p", "ready", {"k": "v"}), NOW)
        stores.nodes.report(Node("local://h", "process", "q", "error", {}), NOW)
        got = stores.nodes.get("local://h")
        assert got is not None
        assert (got.pool, got.status, got.metadata, got.last_update) == ("q", "error", {}, NOW)
        for i in range(12):
            ok = i != 11
            batch = HealthBatch(
                NOW + timedelta(seconds=i), (HealthCheck("ping", "" if ok else "x", ok),)
            )
            assert stores.nodes.record_health("local://h", batch, keep=10)
        got = stores.nodes.get("local://h")
        assert got is not None and len(got.checks) == 10
        assert got.checks[-1].time == NOW + timedelta(seconds=11)
        assert got.checks[-1].checks == (HealthCheck("ping", "x", False),)
        assert got.last_update == NOW + timedelta(seconds=11)
        assert got.last_success == NOW + timedelta(seconds=10)
        assert not stores.nodes.record_health("nope", batch)

    # --- seeds ---
    def test_seeds(self, stores: Stores) -> None:
        assert not stores.seeds.done("x")
        stores.seeds.mark("x")
        stores.seeds.mark("x")
        assert stores.seeds.done("x") and not stores.seeds.done("y")
