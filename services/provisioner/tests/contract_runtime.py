"""The contract suite of the runtime stores, passed by the Mongo stores and the fakes.

Subclass ``RuntimeStoresContract`` with a ``stores`` fixture returning fresh, empty
``RuntimeStores`` (unit/test_runtime_storage_memory.py,
integration/test_runtime_storage_mongo.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.provisioner.backends.base import Healthcheck, Hooks
from services.provisioner.domain.appspec import AppSpec, PlanSpec
from services.provisioner.domain.autoscale import AutoscaleSpec
from services.provisioner.domain.routes import Route
from services.provisioner.domain.runtime import STOPPED, AppRuntime, Group, VersionRelease
from services.provisioner.domain.units import Unit
from services.provisioner.storage.runtime_ports import Lease, RuntimeStores

NOW = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)


def a_runtime(app: str = "shop") -> AppRuntime:
    spec = AppSpec(
        name=app,
        pool="default",
        platform="python",
        plan=PlanSpec("small", memory=256 << 20, cpumilli=500),
        env={"GREETING": "olá", "TSURU_APPNAME": app},
        cnames=("www.example.com",),
    )
    release = VersionRelease(
        version=1,
        image=f"tsubame/app-{app}:v1",
        reference="/releases/1",
        processes={"web": "python3 app.py", "worker": "python3 w.py", "a": "x"},
        hooks=Hooks(build=("make",), restart_after=("echo hi",)),
        healthcheck=Healthcheck(path="/hc", allowed_failures=2, headers={"Host": "x"}),
        custom_data={"healthcheck": {"path": "/hc"}},
        archive="/archives/1.tar.gz",
        created_at=NOW,
    )
    return AppRuntime(
        app=app,
        spec=spec,
        releases={1: release},
        groups=[Group("web", 1, 2), Group("worker", 1, 1, STOPPED, pending="deploy-1")],
        routable=[1],
    )


def a_unit(uid: str, app: str = "shop", minutes: int = 0, **kw: object) -> Unit:
    fields: dict[str, object] = {"process": "web", "version": 1, "status": "started"}
    fields.update(kw)
    return Unit(
        id=uid,
        app=app,
        created_at=NOW + timedelta(minutes=minutes),
        **fields,  # type: ignore[arg-type]
    )


class RuntimeStoresContract:
    # --- runtimes ---
    def test_runtime_roundtrip(self, stores: RuntimeStores) -> None:
        rt = a_runtime()
        assert stores.runtimes.create(rt)
        got = stores.runtimes.get("shop")
        assert got == rt
        assert list(got.releases[1].processes) == ["web", "worker", "a"]  # Procfile order
        assert not stores.runtimes.create(a_runtime())
        assert stores.runtimes.get("other") is None
        assert stores.runtimes.get_many(["other", "shop", "shop"]) == {"shop": rt}
        assert stores.runtimes.get_many([]) == {}

    def test_runtime_save_checks_revision(self, stores: RuntimeStores) -> None:
        stores.runtimes.create(a_runtime())
        first = stores.runtimes.get("shop")
        second = stores.runtimes.get("shop")
        assert first is not None and second is not None
        first.routable = []
        assert stores.runtimes.save(first)
        assert first.revision == 1
        second.routable = [1, 2]
        assert not stores.runtimes.save(second)  # read before the first save
        got = stores.runtimes.get("shop")
        assert got is not None and got.routable == [] and got.revision == 1

    def test_runtime_delete_and_names(self, stores: RuntimeStores) -> None:
        for name in ("b", "a", "c"):
            stores.runtimes.create(a_runtime(name))
        assert stores.runtimes.names() == ["a", "b", "c"]
        assert stores.runtimes.delete("b")
        assert not stores.runtimes.delete("b")
        assert stores.runtimes.names() == ["a", "c"]
        assert [rt.app for rt in stores.runtimes.all()] == ["a", "c"]
        assert stores.runtimes.all()[0] == stores.runtimes.get("a")

    # --- units ---
    def test_units_by_app_oldest_first(self, stores: RuntimeStores) -> None:
        stores.units.put(a_unit("u2", minutes=2))
        stores.units.put(a_unit("u1", minutes=1))
        stores.units.put(a_unit("o1", app="other"))
        assert [u.id for u in stores.units.of_app("shop")] == ["u1", "u2"]
        got = stores.units.of_apps(["shop", "none", "shop"])
        assert list(got) == ["shop", "none"]
        assert [u.id for u in got["shop"]] == ["u1", "u2"] and got["none"] == []
        assert {u.id for u in stores.units.all()} == {"u1", "u2", "o1"}

    def test_unit_update_and_delete(self, stores: RuntimeStores) -> None:
        stores.units.put(a_unit("u1", status="starting"))
        assert stores.units.update("u1", {"status": "started", "address": "127.0.0.1:5"})
        got = stores.units.get("u1")
        assert got is not None and (got.status, got.host, got.port) == ("started", "127.0.0.1", "5")
        assert got.created_at == NOW
        assert not stores.units.update("nope", {"status": "error"})
        assert stores.units.delete("u1") and not stores.units.delete("u1")
        assert stores.units.get("u1") is None

    def test_unit_update_refuses_identity_fields(self, stores: RuntimeStores) -> None:
        stores.units.put(a_unit("u1"))
        try:
            stores.units.update("u1", {"app": "other"})
        except ValueError:
            pass
        else:
            raise AssertionError("changing a unit's app must be refused")

    # --- routes ---
    def test_route_seq_rises_only_on_change(self, stores: RuntimeStores) -> None:
        assert stores.routes.seq() == 0
        first = stores.routes.put(Route("shop", ("shop.d",), ("127.0.0.1:1",)))
        assert first is not None and first.seq == 1
        assert stores.routes.put(Route("shop", ("shop.d",), ("127.0.0.1:1",), seq=99)) is None
        second = stores.routes.put(Route("other", ("other.d",), ()))
        assert second is not None and second.seq == 2
        third = stores.routes.put(Route("shop", ("shop.d",), ("127.0.0.1:1", "127.0.0.1:2")))
        assert third is not None and third.seq == 3
        assert [r.app for r in stores.routes.all()] == ["other", "shop"]
        assert stores.routes.get("shop") == third
        assert stores.routes.delete("shop") == 4
        assert stores.routes.delete("shop") is None
        assert stores.routes.seq() == 4 and stores.routes.get("shop") is None

    # --- leases ---
    def test_lease_exclusive_until_expired(self, stores: RuntimeStores) -> None:
        mine = Lease("app:shop", "w1", "host", 10, NOW + timedelta(seconds=20))
        theirs = Lease("app:shop", "w2", "host", 11, NOW + timedelta(seconds=20))
        assert stores.leases.acquire(mine, NOW)
        assert stores.leases.acquire(mine, NOW)  # ours: extended
        assert not stores.leases.acquire(theirs, NOW + timedelta(seconds=5))
        assert stores.leases.acquire(theirs, NOW + timedelta(seconds=21))
        assert not stores.leases.renew("app:shop", "w1", NOW + timedelta(seconds=60))
        assert stores.leases.renew("app:shop", "w2", NOW + timedelta(seconds=60))
        stores.leases.release("app:shop", "w1")  # not ours any more: nothing happens
        held = stores.leases.get("app:shop")
        assert held is not None and held.holder == "w2" and held.pid == 11
        stores.leases.release("app:shop", "w2")
        assert stores.leases.get("app:shop") is None

    def test_lease_take_over_from_a_named_holder(self, stores: RuntimeStores) -> None:
        dead = Lease("app:shop", "w1", "host", 10, NOW + timedelta(minutes=5))
        assert stores.leases.acquire(dead, NOW)
        me = Lease("app:shop", "w2", "host", 11, NOW + timedelta(seconds=20))
        assert not stores.leases.take_over(me, "w3")
        assert stores.leases.take_over(me, "w1")
        assert not stores.leases.take_over(replace(me, holder="w4"), "w1")
        held = stores.leases.get("app:shop")
        assert held is not None and held.holder == "w2"

    # --- autoscale ---
    def test_autoscale_per_process(self, stores: RuntimeStores) -> None:
        stores.autoscale.put("shop", AutoscaleSpec("web", 1, 3, "70%"))
        stores.autoscale.put("shop", AutoscaleSpec("worker", 1, 2, "50%"))
        stores.autoscale.put("shop", AutoscaleSpec("web", 2, 5, "80%"))
        stores.autoscale.put("other", AutoscaleSpec("web", 1, 2, "700m"))
        assert stores.autoscale.get("shop") == [
            AutoscaleSpec("web", 2, 5, "80%"),
            AutoscaleSpec("worker", 1, 2, "50%"),
        ]
        assert set(stores.autoscale.all()) == {"shop", "other"}
        assert stores.autoscale.remove("shop", "worker")
        assert not stores.autoscale.remove("shop", "worker")
        stores.autoscale.delete_app("shop")
        assert stores.autoscale.get("shop") == []
        assert stores.autoscale.get("other") == [AutoscaleSpec("web", 1, 2, "700m")]
