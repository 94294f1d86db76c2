"""Contract suites of the version and deploy record stores, run on the Mongo stores
(integration/test_deploy_storage_mongo.py) and on the fakes (unit/test_deploy_storage_memory.py).

Subclass and give ``versions`` and ``deploys`` fixtures returning fresh, empty stores.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from services.apps.domain.deploys import DeployRecord
from services.apps.domain.versions import AppVersion
from services.apps.storage.deploy_ports import (
    DeployQuery,
    DeployStore,
    VersionOutcome,
    VersionStore,
)

NOW = datetime.now(UTC).replace(microsecond=123000)


def a_version(app: str = "shop", version: int = 1, **kw: object) -> AppVersion:
    fields: dict[str, object] = {"created_at": NOW, "updated_at": NOW, "kind": "upload"}
    fields.update(kw)
    return AppVersion(app=app, version=version, **fields)  # type: ignore[arg-type]


def a_record(deploy_id: str, app: str = "shop", when: datetime = NOW, **kw: object) -> DeployRecord:
    fields: dict[str, object] = {"kind": "upload", "user": "alice@example.com"}
    fields.update(kw)
    return DeployRecord(id=deploy_id, app=app, timestamp=when, **fields)  # type: ignore[arg-type]


def hex_id(n: int) -> str:
    return f"{n:024x}"


class VersionStoreContract:
    def test_allocate_counts_per_app(self, versions: VersionStore) -> None:
        assert [versions.allocate("shop") for _ in range(3)] == [1, 2, 3]
        assert versions.allocate("blog") == 1

    def test_allocate_is_atomic_under_races(self, versions: VersionStore) -> None:
        got: list[int] = []
        lock = threading.Lock()

        def take() -> None:
            n = versions.allocate("race")
            with lock:
                got.append(n)

        threads = [threading.Thread(target=take) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == list(range(1, 21))

    def test_roundtrip_ascending(self, versions: VersionStore) -> None:
        custom = {"healthcheck": {"path": "/x"}, "a.b": {"$c": [1, {"d.e": "f"}]}}
        versions.add(a_version(version=2, processes={"web": "python3 app.py"}))
        versions.add(a_version(version=1, custom_data=custom, event="e1"))
        versions.add(a_version(app="blog", version=1))
        got = versions.of_app("shop")
        assert [v.version for v in got] == [1, 2]
        assert got[0].custom_data == custom and got[0].event == "e1"
        assert got[1].processes == {"web": "python3 app.py"}
        assert versions.get("shop", 2) == got[1]
        assert versions.get("shop", 3) is None

    def test_finish_and_flags(self, versions: VersionStore) -> None:
        versions.add(a_version())
        later = NOW + timedelta(seconds=5)
        outcome = VersionOutcome(
            build_image="b",
            deploy_image="tsubame/app-shop:v1",
            processes={"web": "run", "worker.x": "w"},
            custom_data={"k": "v"},
            build_successful=True,
            deploy_successful=True,
        )
        assert versions.finish("shop", 1, outcome, later)
        assert not versions.finish("shop", 9, outcome, later)
        v = versions.get("shop", 1)
        assert v is not None
        assert (v.deploy_image, v.deploy_successful, v.updated_at) == (
            "tsubame/app-shop:v1", True, later,
        )  # fmt: skip
        assert v.processes == {"web": "run", "worker.x": "w"} and v.custom_data == {"k": "v"}
        assert versions.set_disabled("shop", 1, True, "broken", later)
        assert versions.mark_to_removal("shop", 1, later)
        v = versions.get("shop", 1)
        assert v is not None and v.disabled and v.disabled_reason == "broken"
        assert v.marked_to_removal
        assert not versions.set_disabled("shop", 2, True, "", later)

    def test_delete_and_delete_app(self, versions: VersionStore) -> None:
        for n in (versions.allocate("shop"), versions.allocate("shop")):
            versions.add(a_version(version=n))
        versions.add(a_version(app="blog"))
        assert versions.delete("shop", 1) and not versions.delete("shop", 1)
        versions.delete_app("shop")
        assert versions.of_app("shop") == []
        assert [v.app for v in versions.of_app("blog")] == ["blog"]
        assert versions.allocate("shop") == 1  # a new app of that name starts again

    def test_rollback_images(self, versions: VersionStore) -> None:
        versions.add(a_version(version=1, deploy_image="i1", deploy_successful=True))
        versions.add(a_version(version=2, deploy_image="i2", deploy_successful=False))
        versions.add(a_version(app="blog", deploy_image="b1", deploy_successful=True))
        versions.add(a_version(app="other", deploy_image="o1", deploy_successful=True))
        assert versions.rollback_images(["shop", "blog"]) == {"i1", "b1"}
        assert versions.rollback_images([]) == set()


class DeployStoreContract:
    def test_roundtrip_and_finish_once(self, deploys: DeployStore) -> None:
        deploys.add(a_record(hex_id(1), origin="app-deploy", message="m", version=3))
        got = deploys.get(hex_id(1))
        assert got is not None and got.running and got.origin == "app-deploy"
        assert got.version == 3 and got.message == "m"
        end = NOW + timedelta(seconds=3)
        done = deploys.finish(hex_id(1), end, "", "tsubame/app-shop:v3", 0)
        assert done is not None and done.finished == end and done.image == "tsubame/app-shop:v3"
        assert done.version == 3
        assert deploys.finish(hex_id(1), end, "again", "", 0) is None
        assert deploys.finish(hex_id(2), end, "", "", 0) is None
        stored = deploys.get(hex_id(1))
        assert stored is not None and stored.error == "" and not stored.running

    def test_finish_races_only_one_wins(self, deploys: DeployStore) -> None:
        deploys.add(a_record(hex_id(7)))
        wins: list[object] = []

        def finish() -> None:
            if deploys.finish(hex_id(7), NOW, "", "img", 1) is not None:
                wins.append(1)

        threads = [threading.Thread(target=finish) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1

    def _spread(self, deploys: DeployStore, apps: int = 3, count: int = 50) -> list[DeployRecord]:
        """Records of several apps stored one after another (a few with equal
        times); newest first is the reverse of that order."""
        rng = random.Random(7)
        names = [f"a{i}" for i in range(apps)]
        made: list[DeployRecord] = []
        for n in range(count):
            when = NOW - timedelta(seconds=(count - n) // 3)
            made.append(a_record(hex_id(n + 1), app=rng.choice(names), when=when))
        for r in made:
            deploys.add(r)
        deploys.add(made[0])  # stored again: nothing changes
        return made[::-1]

    def test_pages_match_a_plain_sort(self, deploys: DeployStore) -> None:
        expected = self._spread(deploys)
        ids = [r.id for r in expected]
        for skip, limit in [(0, 1), (0, 5), (3, 7), (10, 100), (48, 5), (0, None), (7, None)]:
            got = deploys.page(DeployQuery(), skip, limit)
            want = ids[skip : skip + limit] if limit is not None else ids[skip:]
            assert [r.id for r in got] == want, (skip, limit)

    def test_pages_of_some_apps(self, deploys: DeployStore) -> None:
        expected = self._spread(deploys)
        for apps in (("a0",), ("a1", "a2"), ("a0", "a1", "a2")):
            want = [r.id for r in expected if r.app in apps]
            assert [r.id for r in deploys.page(DeployQuery(apps=apps), 0, None)] == want
            assert [r.id for r in deploys.page(DeployQuery(apps=apps), 2, 3)] == want[2:5]
        assert deploys.page(DeployQuery(apps=()), 0, 10) == []
        assert deploys.page(DeployQuery(apps=("nobody",)), 0, 10) == []

    def test_pages_of_many_apps_and_gaps(self, deploys: DeployStore) -> None:
        expected = self._spread(deploys, apps=40, count=120)
        deploys.delete_app("a3")  # leaves gaps in the sequence
        expected = [r for r in expected if r.app != "a3"]
        ids = [r.id for r in expected]
        assert [r.id for r in deploys.page(DeployQuery(), 5, 30)] == ids[5:35]
        many = tuple(f"a{i}" for i in range(0, 40, 2))  # 20 apps
        most = tuple(f"a{i}" for i in range(30))  # 30 apps
        for apps in (many, most):
            want = [r.id for r in expected if r.app in apps]
            assert [r.id for r in deploys.page(DeployQuery(apps=apps), 0, 7)] == want[:7]
            assert [r.id for r in deploys.page(DeployQuery(apps=apps), 4, 50)] == want[4:54]
            assert [r.id for r in deploys.page(DeployQuery(apps=apps), 0, None)] == want

    def test_empty_store(self, deploys: DeployStore) -> None:
        assert deploys.page(DeployQuery(), 0, 10) == []

    def test_delete_app(self, deploys: DeployStore) -> None:
        deploys.add(a_record(hex_id(1), app="a"))
        deploys.add(a_record(hex_id(2), app="b"))
        deploys.delete_app("a")
        assert [r.id for r in deploys.page(DeployQuery(), 0, None)] == [hex_id(2)]
        assert deploys.running("b")[0].id == hex_id(2) and deploys.running("a") == []
