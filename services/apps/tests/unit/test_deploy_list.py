"""GET /deploys and GET /deploys/{id} on fakes (apps.md §6.8, §6.9)."""

from __future__ import annotations

from datetime import timedelta

from services.apps.domain.deploys import DeployRecord
from services.apps.domain.models import App
from services.apps.tests.unit.conftest import admin, app_token, call, user
from services.apps.tests.unit.deploy_support import World, world


def seed(w: World) -> list[str]:
    """Deploys of shop (team blue) and blog (team red), newest last."""
    w.deps.stores.apps.add(App("blog", pool="other", team_owner="red", teams=["red"]))
    base = w.deps.clock() - timedelta(hours=5)
    ids = []
    for n, app in enumerate(["shop", "blog", "shop", "blog", "shop"]):
        deploy_id = f"{n + 1:024x}"
        when = base + timedelta(minutes=n)
        w.deps.stores.deploys.add(
            DeployRecord(
                deploy_id,
                app,
                when,
                "upload",
                user="alice@example.com",
                origin="app-deploy",
                version=n + 1,
            )  # fmt: skip
        )
        w.deps.stores.deploys.finish(
            deploy_id, when + timedelta(seconds=2), "", f"tsubame/app-{app}:v{n + 1}", 0
        )
        ids.append(deploy_id)
    w.add_version(5)  # shop's v5 is a stored successful version
    return ids


def test_list_newest_first_with_tsurus_shape() -> None:
    w = world()
    ids = seed(w)
    r = call(w.app, "GET", "/deploys", admin())
    assert r.status_code == 200
    got = r.json
    assert [d["ID"] for d in got] == ids[::-1]
    first = got[0]
    assert set(first) == {"ID", "App", "Timestamp", "Duration", "Commit", "Error", "Image",
                          "Version", "Log", "User", "Origin", "CanRollback", "Diff", "Message"}  # fmt: skip
    assert (first["App"], first["Image"], first["Version"], first["Duration"]) == (
        "shop", "tsubame/app-shop:v5", 5, 2_000_000_000,
    )  # fmt: skip
    assert first["CanRollback"] is True and got[2]["CanRollback"] is False
    assert first["Log"] == "" and first["Origin"] == "app-deploy"


def test_filters_and_pages() -> None:
    w = world()
    ids = seed(w)
    r = call(w.app, "GET", "/deploys?app=blog", admin())
    assert [d["ID"] for d in r.json] == [ids[3], ids[1]]
    r = call(w.app, "GET", "/deploys?skip=1&limit=2", admin())
    assert [d["ID"] for d in r.json] == [ids[3], ids[2]]
    r = call(w.app, "GET", "/deploys?limit=-1&skip=-3", admin())
    assert len(r.json) == 5
    r = call(w.app, "GET", "/deploys?limit=x", admin())
    assert len(r.json) == 5
    assert call(w.app, "GET", "/deploys?app=nope", admin()).status_code == 204
    assert call(w.app, "GET", "/deploys?skip=10", admin()).status_code == 204


def test_visibility_follows_app_read_deploy() -> None:
    w = world()
    ids = seed(w)
    blue = user("b@example.com", ("app.read.deploy", "team", "blue"))
    assert [d["ID"] for d in call(w.app, "GET", "/deploys", blue).json] == [ids[4], ids[2], ids[0]]
    pool = user("p@example.com", ("app.read.deploy", "pool", "other"))
    assert [d["App"] for d in call(w.app, "GET", "/deploys", pool).json] == ["blog", "blog"]
    assert call(w.app, "GET", "/deploys?app=blog", blue).status_code == 204
    nobody = user("n@example.com", ("app.update", "global", ""))
    assert call(w.app, "GET", "/deploys", nobody).status_code == 204
    token = app_token("shop")  # app tokens hold app.read.deploy on their app
    assert {d["App"] for d in call(w.app, "GET", "/deploys", token).json} == {"shop"}


def test_deploy_info_with_its_log() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/shop/deploy", admin(), data={"archive-url": "http://x/a"})
    event_id = r.headers["X-Tsuru-Eventid"]
    assert r.get_data(as_text=True).endswith("OK\n")  # read to its end, as a client does
    r = call(w.app, "GET", f"/deploys/{event_id}", admin())
    assert r.status_code == 200
    info = r.json
    assert info["ID"] == event_id and info["CanRollback"] is False
    assert info["Log"].endswith(": deploy shop\n") and info["Image"] == "tsubame/app-shop:v1"
    assert info["Version"] == 1
    red = user("r@example.com", ("app.read.deploy", "team", "red"))
    assert (call(w.app, "GET", f"/deploys/{event_id}", red).text) == "Deploy not found.\n"
    r = call(w.app, "GET", "/deploys/nothex", admin())
    assert (r.status_code, r.text) == (404, "id parameter is not ObjectId: nothex\n")
    r = call(w.app, "GET", f"/deploys/{'f' * 24}", admin())
    assert (r.status_code, r.text) == (404, "Deploy not found.\n")
    w.deps.stores.apps.delete("shop")
    r = call(w.app, "GET", f"/deploys/{event_id}", admin())
    assert (r.status_code, r.text) == (404, "App not found\n")


def test_a_running_record_whose_outcome_was_lost_is_settled_from_its_event() -> None:
    w = world()
    from shared.events import EventSpec, Owner, Target
    from shared.events.model import Allowed

    evt = w.recorder.start(
        EventSpec(
            Target("app", "shop"), "app.deploy", Owner("user", "a@x"), Allowed("app.read.events")
        )
    )
    w.deps.stores.deploys.add(
        DeployRecord(evt.unique_id, "shop", evt.record.start_time, "upload", version=1)
    )
    evt.done("\n---- ERROR during deploy: ----\nunit crashed\n")
    got = call(w.app, "GET", "/deploys", admin()).json
    assert got[0]["Error"].endswith("unit crashed\n") and got[0]["Duration"] >= 0
    stored = w.deps.stores.deploys.get(evt.unique_id)
    assert stored is not None and not stored.running
