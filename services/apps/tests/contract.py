"""The one contract suite every apps storage implementation passes (STYLE §5).

Subclass ``StorageContract`` and provide a ``stores`` fixture returning fresh, empty
``Stores``; see ``unit/test_storage_memory.py`` and ``integration/test_storage_mongo.py``.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from dataclasses import replace
from typing import Any

import pytest

from services.apps.domain import errors
from services.apps.domain.models import (
    App,
    AppQuery,
    AppRouter,
    Certificate,
    EnvVar,
    LogLine,
    Metadata,
    MetadataItem,
    Plan,
    ServiceEnv,
)
from services.apps.storage.ports import Stores


def an_app(name: str = "shop", **kw: Any) -> App:
    fields: dict[str, Any] = dict(pool="default", team_owner="blue", teams=["blue"],
                                  owner="alice@example.com", platform="python")  # fmt: skip
    fields.update(kw)
    return App(name=name, **fields)


def names(stores: Stores, q: AppQuery, batch: int = 500) -> list[str]:
    return [a.name for page in stores.apps.query(q, batch) for a in page]


class StorageContract:
    def test_roundtrip_every_field(self, stores: Stores) -> None:
        app = an_app(
            platform_version="v3",
            plan=Plan("small", 1024, 0, 500, 100, True, override_memory=2048),
            description="d",
            tags=["a", "b"],
            metadata=Metadata([MetadataItem("l", "v")], [MetadataItem("a")]),
            routers=[AppRouter("tsubame", {"k": "v"}, "gateway")],
            cnames=["www.example.com"],
            env={"A": EnvVar("A", "1", "", False, "tf")},
            service_envs=[ServiceEnv("DB", "x", "mysql", "db1")],
            quota_limit=4,
            deploys=2,
            update_platform=True,
            provisioner="process",
            cluster="c1",
            swapped_with="other",
        )
        stores.apps.add(app)
        got = stores.apps.get("shop")
        assert got is not None
        app.seq = got.seq
        assert got == app
        assert stores.apps.exists("shop") and not stores.apps.exists("other")
        assert stores.apps.get("other") is None
        # A listing reads every field but the env and service envs (no list shows them).
        [[listed]] = list(stores.apps.query(AppQuery()))
        assert listed == dataclasses.replace(app, env={}, service_envs=[])

    def test_duplicate_name(self, stores: Stores) -> None:
        stores.apps.add(an_app())
        with pytest.raises(errors.AppExists) as exc:
            stores.apps.add(an_app())
        assert exc.value.status == 409

    def test_twenty_racing_creates_one_wins(self, stores: Stores) -> None:
        wins: list[int] = []

        def create(i: int) -> None:
            try:
                stores.apps.add(an_app(description=str(i)))
                wins.append(i)
            except errors.AppExists:
                pass

        threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        assert stores.apps.get("shop").description == str(wins[0])  # type: ignore[union-attr]

    def test_query_filters_and_visibility(self, stores: Stores) -> None:
        stores.apps.add(an_app("a1", tags=["x", "y"], pool="p1"))
        stores.apps.add(an_app("a2", teams=["red"], team_owner="red", tags=["x"]))
        stores.apps.add(an_app("b3", platform="go", platform_version="v1", owner="bob@e.com"))
        stores.apps.add(an_app("b4", teams=["red", "blue"], pool="p2"))
        assert names(stores, AppQuery()) == ["a1", "a2", "b3", "b4"]
        assert names(stores, AppQuery(tags=("x",))) == ["a1", "a2"]
        assert names(stores, AppQuery(tags=("x", "y"))) == ["a1"]
        assert names(stores, AppQuery(team_owner="red")) == ["a2"]
        assert names(stores, AppQuery(owner="bob@e.com")) == ["b3"]
        assert names(stores, AppQuery(pool="p2")) == ["b4"]
        assert names(stores, AppQuery(platform="go", platform_version="v1")) == ["b3"]
        assert names(stores, AppQuery(platform="python", platform_version="")) == [
            "a1", "a2", "b4",
        ]  # fmt: skip
        rx = re.compile("^b")
        assert names(stores, AppQuery(name_matches=lambda n: bool(rx.search(n)))) == ["b3", "b4"]
        assert names(stores, AppQuery(everything=False)) == []
        assert names(stores, AppQuery(everything=False, visible_teams=("red",))) == ["a2", "b4"]
        assert names(
            stores, AppQuery(everything=False, visible_apps=("a1",), visible_pools=("p2",))
        ) == ["a1", "b4"]
        assert names(stores, AppQuery(everything=False, visible_teams=("red",), tags=("x",))) == [
            "a2"
        ]
        seen_twice = AppQuery(everything=False, visible_teams=("red",), visible_apps=("a2", "b3"))
        assert names(stores, seen_twice) == ["a2", "b3", "b4"]  # a2 by team and by name
        assert names(stores, replace(seen_twice, visible_pools=("p1",), pool="p2")) == ["b4"]
        assert names(stores, AppQuery(team_owner="red", tags=("x",), pool="p1")) == []
        assert names(stores, AppQuery(platform="go", tags=("x",))) == []
        assert names(stores, AppQuery(tags=("y", "x"), pool="p1")) == ["a1"]
        pages = [[a.name for a in page] for page in stores.apps.query(AppQuery(), 3)]
        assert pages == [["a1", "a2", "b3"], ["b4"]]
        assert stores.apps.count() == 4
        assert sorted(stores.apps.get_many(["a1", "b4", "zz"])) == ["a1", "b4"]

    def test_names_by_team_pool_platform(self, stores: Stores) -> None:
        stores.apps.add(an_app("a1"))
        stores.apps.add(an_app("a2", teams=["red", "blue"], pool="p2", platform="go"))
        assert stores.apps.names_with_team("blue") == ["a1", "a2"]
        assert stores.apps.names_with_team("red") == ["a2"]
        assert stores.apps.names_in_pool("p2") == ["a2"]
        assert stores.apps.names_with_platform("go") == ["a2"]
        assert stores.apps.names_with_team("none") == []

    def test_update_fields(self, stores: Stores) -> None:
        stores.apps.add(an_app())
        plan = Plan("big", 2048)
        meta = Metadata(annotations=[MetadataItem("n", "v")])
        assert stores.apps.update(
            "shop", {"description": "new", "plan": plan, "metadata": meta, "tags": ["t"]}
        )
        got = stores.apps.get("shop")
        assert got is not None
        assert (got.description, got.plan, got.metadata, got.tags) == ("new", plan, meta, ["t"])
        assert not stores.apps.update("nope", {"description": "x"})
        with pytest.raises(ValueError):
            stores.apps.update("shop", {"teams": ["x"]})

    def test_teams_are_a_set_and_never_empty(self, stores: Stores) -> None:
        stores.apps.add(an_app())
        assert stores.apps.add_team("shop", "red")
        assert not stores.apps.add_team("shop", "red")
        assert not stores.apps.add_team("nope", "red")
        assert stores.apps.remove_team("shop", "green") == "absent"
        assert stores.apps.remove_team("shop", "blue") == "ok"
        assert stores.apps.remove_team("shop", "red") == "last"
        assert stores.apps.remove_team("shop", "blue") == "last"
        assert stores.apps.remove_team("nope", "blue") == "noapp"
        assert stores.apps.get("shop").teams == ["red"]  # type: ignore[union-attr]

    def test_env_set_prune_unset(self, stores: Stores) -> None:
        stores.apps.add(an_app())
        pruned = stores.apps.set_envs(
            "shop", [EnvVar("A", "1", managed_by="tf"), EnvVar("B", "2", managed_by="tf")]
        )
        assert pruned == []
        stores.apps.set_envs("shop", [EnvVar("C", "3")])
        pruned = stores.apps.set_envs("shop", [EnvVar("A", "9", managed_by="tf")], "tf")
        assert pruned == ["B"]
        env = stores.apps.get("shop").env  # type: ignore[union-attr]
        assert sorted(env) == ["A", "C"] and env["A"].value == "9"
        assert stores.apps.unset_envs("shop", ["A", "missing"])
        assert sorted(stores.apps.get("shop").env) == ["C"]  # type: ignore[union-attr]

    def test_service_envs(self, stores: Stores) -> None:
        stores.apps.add(an_app())
        assert stores.apps.add_service_envs(
            "shop", [ServiceEnv("H", "h", "mysql", "db1"), ServiceEnv("P", "p", "mysql", "db1")]
        )
        stores.apps.add_service_envs("shop", [ServiceEnv("R", "r", "redis", "c")])
        gone = stores.apps.remove_service_envs("shop", "mysql", "db1")
        assert [e.name for e in gone] == ["H", "P"]
        assert stores.apps.remove_service_envs("shop", "mysql", "db1") == []
        left = stores.apps.get("shop").service_envs  # type: ignore[union-attr]
        assert left == [ServiceEnv("R", "r", "redis", "c")]

    def test_routers(self, stores: Stores) -> None:
        stores.apps.add(an_app(routers=[AppRouter("r1")]))
        assert stores.apps.add_router("shop", AppRouter("r2", {"a": "b"}))
        assert not stores.apps.add_router("shop", AppRouter("r2"))
        assert stores.apps.set_router_opts("shop", "r2", {"c": "d"})
        assert not stores.apps.set_router_opts("shop", "r9", {})
        assert stores.apps.remove_router("shop", "r1")
        assert not stores.apps.remove_router("shop", "r1")
        assert stores.apps.get("shop").routers == [AppRouter("r2", {"c": "d"})]  # type: ignore[union-attr]

    def test_cnames_deploys_delete(self, stores: Stores) -> None:
        stores.apps.add(an_app())
        assert stores.apps.set_cnames("shop", ["a.com", "b.com"])
        assert stores.apps.increment_deploys("shop")
        got = stores.apps.get("shop")
        assert got is not None and got.cnames == ["a.com", "b.com"] and got.deploys == 1
        assert stores.apps.delete("shop") and not stores.apps.delete("shop")

    def test_cname_registry_is_unique_across_apps(self, stores: Stores) -> None:
        assert stores.cnames.claim("a.com", "shop")
        assert stores.cnames.claim("a.com", "shop")  # idempotent for its holder
        assert not stores.cnames.claim("a.com", "other")
        assert stores.cnames.owner("a.com") == "shop"
        assert not stores.cnames.release("a.com", "other")
        assert stores.cnames.transfer("a.com", "shop", "other")
        assert stores.cnames.owner("a.com") == "other"
        stores.cnames.claim("b.com", "other")
        stores.cnames.release_all("other")
        assert stores.cnames.owner("a.com") is None and stores.cnames.owner("b.com") is None

    def test_racing_cname_claims_one_wins(self, stores: Stores) -> None:
        wins: list[str] = []

        def claim(app: str) -> None:
            if stores.cnames.claim("race.com", app):
                wins.append(app)

        threads = [threading.Thread(target=claim, args=(f"app{i}",)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and stores.cnames.owner("race.com") == wins[0]


def log_line(i: int, source: str = "app", unit: str = "u1") -> LogLine:
    return LogLine(f"2026-01-01T00:00:{i % 60:02d}.000000000Z", f"line {i}", source, unit)


class LogContract:
    def test_append_and_tail_in_order(self, stores: Stores) -> None:
        assert stores.logs.tail("shop", 10) == []
        got = stores.logs.append("shop", [log_line(i) for i in range(5)])
        assert [line.seq for line in got] == [0, 1, 2, 3, 4]
        stores.logs.append("other", [log_line(9)])
        assert [line.message for line in stores.logs.tail("shop", 3)] == [
            "line 2", "line 3", "line 4",
        ]  # fmt: skip
        assert len(stores.logs.tail("shop", 0)) == 5
        assert stores.logs.append("shop", []) == []

    def test_tail_filters_across_chunks(self, stores: Stores) -> None:
        lines = [log_line(i, "web" if i % 7 == 0 else "app", f"u{i % 3}") for i in range(530)]
        for i in range(0, 530, 53):  # appends that straddle chunk boundaries
            stores.logs.append("shop", lines[i : i + 53])
        web = stores.logs.tail("shop", 4, lambda line: line.source == "web")
        assert [line.message for line in web] == ["line 504", "line 511", "line 518", "line 525"]
        assert [line.seq for line in stores.logs.tail("shop", 0)] == list(range(530))

    def test_tail_of_any_length_is_the_logs_end(self, stores: Stores) -> None:
        for i in range(0, 530, 53):
            stores.logs.append("shop", [log_line(j) for j in range(i, i + 53)])
        whole = [line.seq for line in stores.logs.tail("shop", 0)]
        for n in (1, 29, 30, 31, 99, 100, 101, 130, 131, 250, 529, 530, 531, 2000):
            assert [line.seq for line in stores.logs.tail("shop", n)] == whole[-n:], n

    def test_bounded_to_the_newest_max_lines(self, stores: Stores) -> None:
        stores.logs.max_lines = 250  # type: ignore[attr-defined]
        for i in range(0, 1000, 40):
            stores.logs.append("shop", [log_line(j) for j in range(i, i + 40)])
        kept = stores.logs.tail("shop", 0)
        assert [line.seq for line in kept] == list(range(750, 1000))
        assert stores.logs.tail("shop", 2)[-1].message == "line 999"
        assert [line.seq for line in stores.logs.tail("shop", 251)] == list(range(750, 1000))
        assert [line.seq for line in stores.logs.tail("shop", 120)] == list(range(880, 1000))

    def test_racing_writers_lose_nothing(self, stores: Stores) -> None:
        def write(w: int) -> None:
            for k in range(5):
                stores.logs.append("shop", [log_line(w * 100 + k * 10 + j) for j in range(7)])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        kept = stores.logs.tail("shop", 0)
        assert sorted(line.seq for line in kept) == list(range(700))
        assert len({line.message for line in kept}) == 700

    def test_drop(self, stores: Stores) -> None:
        stores.logs.append("shop", [log_line(1)])
        stores.logs.drop("shop")
        assert stores.logs.tail("shop", 0) == []
        assert stores.logs.append("shop", [log_line(2)])[0].seq == 0


class CertificateContract:
    def test_certificates_by_name(self, stores: Stores) -> None:
        a = Certificate("www.shop.com", "CERT-A", "KEY-A")
        stores.certificates.put("shop", a)
        stores.certificates.put("shop", Certificate("api.shop.com", "CERT-B", "KEY-B"))
        stores.certificates.put("blog", Certificate("blog.com", "C", "K"))
        assert sorted(stores.certificates.of_app("shop")) == ["api.shop.com", "www.shop.com"]
        assert stores.certificates.get("www.shop.com") == ("shop", a)
        newer = Certificate("www.shop.com", "CERT-A2", "KEY-A2")
        stores.certificates.put("shop", newer)
        assert stores.certificates.get("www.shop.com") == ("shop", newer)
        assert not stores.certificates.remove("blog", "www.shop.com")
        assert stores.certificates.remove("shop", "www.shop.com")
        assert stores.certificates.get("www.shop.com") is None
        assert len(stores.certificates.all()) == 2
        stores.certificates.remove_app("shop")
        assert [a for a, _ in stores.certificates.all()] == ["blog"]
