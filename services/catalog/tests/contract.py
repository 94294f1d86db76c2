"""The one contract suite both storage implementations pass (STYLE §5).

Subclass ``StorageContract`` with a ``stores`` fixture returning fresh, empty
``Stores``: ``unit/test_storage_memory.py`` and ``integration/test_storage_mongo.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.domain import errors
from services.catalog.domain.models import (
    BoundUnit,
    Broker,
    BrokerAuth,
    BrokerBind,
    BrokerConfig,
    BrokerData,
    Catalog,
    CatalogPlan,
    CatalogService,
    PendingOp,
    Service,
    ServiceInstance,
)
from services.catalog.storage.ports import Stores

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def a_service(name: str = "mysql", **kw) -> Service:  # type: ignore[no-untyped-def]
    fields = dict(password="pw", endpoint={"production": "http://x"}, owner_teams=["blue"])
    fields.update(kw)
    return Service(name=name, **fields)  # type: ignore[arg-type]


def an_instance(name: str = "db1", service: str = "mysql", **kw) -> ServiceInstance:  # type: ignore[no-untyped-def]
    fields = dict(teams=["blue"], team_owner="blue")
    fields.update(kw)
    return ServiceInstance(name=name, service_name=service, **fields)  # type: ignore[arg-type]


class StorageContract:
    # --- services ---
    def test_service_roundtrip_and_duplicate(self, stores: Stores) -> None:
        s = a_service(username="u", teams=["red"], doc="d", is_multi_cluster=True,
                      disable_bind_unit=True, endpoint={"production": "http://p", "c1": "c"})  # fmt: skip
        stores.services.add(s)
        assert stores.services.get("mysql") == s
        with pytest.raises(errors.ServiceExists):
            stores.services.add(a_service())
        assert stores.services.get("nope") is None

    def test_service_settings_doc_delete(self, stores: Stores) -> None:
        stores.services.add(a_service(username="u"))
        assert stores.services.replace_settings(
            "mysql", username="", password="new", endpoint={"production": "y"}, owner_teams=None
        )
        got = stores.services.get("mysql")
        assert got is not None and (got.username, got.password) == ("", "new")
        assert got.endpoint == {"production": "y"} and got.owner_teams == ["blue"]
        stores.services.replace_settings(
            "mysql", username="a", password="b", endpoint={"production": "z"}, owner_teams=["red"]
        )
        assert stores.services.get("mysql").owner_teams == ["red"]  # type: ignore[union-attr]
        assert not stores.services.replace_settings(
            "nope", username="", password="", endpoint={}, owner_teams=None
        )
        assert stores.services.set_doc("mysql", "the doc")
        assert stores.services.get("mysql").doc == "the doc"  # type: ignore[union-attr]
        assert stores.services.delete("mysql") and not stores.services.delete("mysql")

    def test_service_consumer_teams_are_a_set(self, stores: Stores) -> None:
        stores.services.add(a_service())
        assert stores.services.add_team("mysql", "red")
        assert not stores.services.add_team("mysql", "red")
        assert stores.services.add_team("mysql", "green")
        assert stores.services.get("mysql").teams == ["red", "green"]  # type: ignore[union-attr]
        assert stores.services.remove_team("mysql", "red")
        assert not stores.services.remove_team("mysql", "red")
        assert not stores.services.add_team("nope", "red")
        assert stores.services.get("mysql").teams == ["green"]  # type: ignore[union-attr]

    def test_service_listings(self, stores: Stores) -> None:
        stores.services.add(a_service("c", owner_teams=["blue"]))
        stores.services.add(a_service("a", owner_teams=["red"], teams=["green"],
                                      is_restricted=True))  # fmt: skip
        stores.services.add(a_service("b", owner_teams=["red"]))
        assert stores.services.names() == ["c", "a", "b"]
        names = lambda ss: [s.name for s in ss]  # noqa: E731
        assert names(stores.services.administered(None, None)) == ["c", "a", "b"]
        assert names(stores.services.administered(["red"], [])) == ["a", "b"]
        assert names(stores.services.administered([], ["c"])) == ["c"]
        assert names(stores.services.administered([], [])) == []
        # consumers: consumer teams, names, or anything not restricted
        assert names(stores.services.consumable([], [])) == ["c", "b"]
        assert names(stores.services.consumable(["green"], [])) == ["c", "a", "b"]
        assert names(stores.services.consumable([], ["a"])) == ["c", "a", "b"]

    # --- instances ---
    def test_instance_roundtrip_and_duplicate(self, stores: Stores) -> None:
        i = an_instance(id=3, plan_name="small", apps=["shop"], description="d", tags=["t"],
                        bound_units=[BoundUnit("shop", "u1", "10.0.0.1")], pool="p",
                        parameters={"$weird.key": {"n": 1.5}, "l": [1, "a"]})  # fmt: skip
        stores.instances.add(i)
        assert stores.instances.get("mysql", "db1") == i
        with pytest.raises(errors.InstanceExists):
            stores.instances.add(an_instance())
        stores.instances.add(an_instance(service="redis"))  # same name, other service
        assert stores.instances.get("redis", "db1") is not None
        assert stores.instances.get("mysql", "nope") is None
        assert stores.instances.count_for_service("mysql") == 1
        assert stores.instances.count_for_service("pg") == 0

    def test_instance_find_filters(self, stores: Stores) -> None:
        stores.instances.add(an_instance("i1", teams=["blue"], apps=["shop"]))
        stores.instances.add(an_instance("i2", service="redis", teams=["red"]))
        stores.instances.add(an_instance("i3", teams=["red"], apps=["shop", "blog"]))
        names = lambda ii: [i.name for i in ii]  # noqa: E731
        assert names(stores.instances.find()) == ["i1", "i2", "i3"]
        assert names(stores.instances.find(teams=["red"], names=[])) == ["i2", "i3"]
        assert names(stores.instances.find(teams=[], names=["i1"])) == ["i1"]
        assert names(stores.instances.find(teams=[], names=[])) == []
        assert names(stores.instances.find(app="shop")) == ["i1", "i3"]
        assert names(stores.instances.find(teams=["red"], names=[], app="shop")) == ["i3"]
        assert names(stores.instances.find(service="redis")) == ["i2"]
        assert names(stores.instances.find(teams=["red"], names=["i1"])) == ["i1", "i2", "i3"]
        assert names(stores.instances.find(teams=["blue"], names=["i1"], service="mysql")) == ["i1"]
        assert names(stores.instances.find(teams=["red"], names=[], service="mysql")) == ["i3"]
        assert names(stores.instances.find(teams=[], names=["i2"], app="shop")) == []
        assert names(stores.instances.find(app="shop", service="redis")) == []
        assert names(stores.instances.bound_to("blog")) == ["i3"]
        assert stores.instances.using_team("red") == ["i2", "i3"]
        assert stores.instances.bound_apps() == ["blog", "shop"]
        summary = stores.instances.of_services(["mysql"])
        assert [(i.name, i.service_name) for i in summary] == [("i1", "mysql"), ("i3", "mysql")]
        assert summary[0].teams == [] and summary[0].apps == []

    def test_instance_apps_and_units_are_sets(self, stores: Stores) -> None:
        stores.instances.add(an_instance())
        assert stores.instances.add_app("mysql", "db1", "shop")
        assert not stores.instances.add_app("mysql", "db1", "shop")
        assert not stores.instances.add_app("mysql", "nope", "shop")
        u1, u2 = BoundUnit("shop", "u1", "10.0.0.1"), BoundUnit("shop", "u2", "10.0.0.2")
        assert stores.instances.add_unit("mysql", "db1", u1)
        assert not stores.instances.add_unit("mysql", "db1", u1)
        assert stores.instances.add_unit("mysql", "db1", u2)
        got = stores.instances.get("mysql", "db1")
        assert got is not None and got.apps == ["shop"] and got.bound_units == [u1, u2]
        assert stores.instances.remove_unit("mysql", "db1", u1)
        assert not stores.instances.remove_unit("mysql", "db1", u1)
        assert stores.instances.remove_app("mysql", "db1", "shop")
        assert not stores.instances.remove_app("mysql", "db1", "shop")
        got = stores.instances.get("mysql", "db1")
        assert got is not None and got.apps == [] and got.bound_units == [u2]

    def test_instance_update_and_restore(self, stores: Stores) -> None:
        before = an_instance(description="old", tags=["a"], plan_name="s", parameters={"x": 1})
        stores.instances.add(before)
        assert stores.instances.update(
            "mysql", "db1", description="new", tags=[], team_owner="red", plan_name="",
            parameters={},
        )  # fmt: skip
        got = stores.instances.get("mysql", "db1")
        assert got is not None
        assert (got.description, got.tags, got.team_owner, got.plan_name, got.parameters) == (
            "new", [], "red", "", {},
        )  # fmt: skip
        assert got.teams == ["blue", "red"]
        stores.instances.update(
            "mysql", "db1", description="", tags=[], team_owner="red", plan_name="", parameters={}
        )
        assert stores.instances.get("mysql", "db1").teams == ["blue", "red"]  # type: ignore[union-attr]
        assert stores.instances.restore(before)
        assert stores.instances.get("mysql", "db1") == before

    def test_instance_teams_and_broker_data(self, stores: Stores) -> None:
        stores.instances.add(an_instance())
        assert stores.instances.push_team("mysql", "db1", "red")
        assert stores.instances.push_team("mysql", "db1", "red")  # tsuru keeps duplicates
        assert stores.instances.get("mysql", "db1").teams == ["blue", "red", "red"]  # type: ignore[union-attr]
        assert stores.instances.pull_team("mysql", "db1", "red")
        assert stores.instances.get("mysql", "db1").teams == ["blue"]  # type: ignore[union-attr]
        data = BrokerData("u", "s", "p", "o", "o", "op",
                          {"shop": BrokerBind("b", "", {"$k": [1, {"a": None}]})})  # fmt: skip
        assert stores.instances.set_broker_data("mysql", "db1", data)
        assert stores.instances.get("mysql", "db1").broker_data == data  # type: ignore[union-attr]
        assert stores.instances.set_broker_data("mysql", "db1", None)
        assert stores.instances.get("mysql", "db1").broker_data is None  # type: ignore[union-attr]
        assert stores.instances.delete("mysql", "db1")
        assert not stores.instances.delete("mysql", "db1")

    def test_instance_pending_operations(self, stores: Stores) -> None:
        stores.instances.add(an_instance())
        stores.instances.add(an_instance("db2"))
        assert stores.instances.with_pending() == []
        op = PendingOp("bind", "shop", "e1", restart=False)
        assert stores.instances.add_pending("mysql", "db1", op)
        assert stores.instances.add_pending("mysql", "db1", PendingOp("unbind", "blog", "e2"))
        assert not stores.instances.add_pending("mysql", "nope", op)
        found = stores.instances.with_pending()
        assert [i.name for i in found] == ["db1"] and found[0].pending[0] == op
        assert stores.instances.remove_pending("mysql", "db1", "e1")
        assert not stores.instances.remove_pending("mysql", "db1", "e1")
        assert [p.event for p in stores.instances.get("mysql", "db1").pending] == ["e2"]  # type: ignore[union-attr]
        stores.instances.remove_pending("mysql", "db1", "e2")
        assert stores.instances.with_pending() == []

    # --- brokers ---
    def test_broker_roundtrip_rename_delete(self, stores: Stores) -> None:
        config = BrokerConfig(BrokerAuth("u", "p", None), True, {"$region": "x"}, 60)
        stores.brokers.add(Broker("aws", "http://b", config))
        stores.brokers.add(Broker("gcp", "http://g"))
        with pytest.raises(errors.BrokerExists):
            stores.brokers.add(Broker("aws", "http://other"))
        assert stores.brokers.get("aws") == Broker("aws", "http://b", config)
        assert [b.name for b in stores.brokers.all()] == ["aws", "gcp"]
        assert stores.brokers.replace("aws", Broker("", "http://c"))
        assert stores.brokers.get("aws") is None
        assert stores.brokers.get("") == Broker("", "http://c")
        with pytest.raises(errors.BrokerExists):
            stores.brokers.replace("", Broker("gcp", "http://c"))
        assert not stores.brokers.replace("nope", Broker("nope", "u"))
        assert stores.brokers.delete("gcp") and not stores.brokers.delete("gcp")

    def test_catalog_cache_expires(self, stores: Stores) -> None:
        cat = Catalog((CatalogService("s1", "db", "a db", (
            CatalogPlan("p1", "small", "", {"$schema": "x"}),)),))  # fmt: skip
        assert stores.catalogs.load("aws", NOW) is None
        stores.catalogs.save("aws", cat, NOW + timedelta(seconds=10))
        assert stores.catalogs.load("aws", NOW) == cat
        assert stores.catalogs.load("aws", NOW + timedelta(seconds=11)) is None
        stores.catalogs.save("aws", Catalog(), NOW + timedelta(seconds=20))
        assert stores.catalogs.load("aws", NOW) == Catalog()
