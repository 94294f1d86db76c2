"""EventRecorder against the real database (integration)."""

from __future__ import annotations

import threading

import pytest
from bson import ObjectId
from pymongo.database import Database

from shared.events import (
    EVENTS,
    LOCKS,
    Allowed,
    EventBlocked,
    EventLocked,
    EventRecorder,
    Target,
    expire_stale_events,
    locks,
)
from shared.events.model import ZERO_TIME, now
from shared.events.tests.conftest import Published
from shared.events.tests.factories import add_block, start_kwargs, user

pytestmark = pytest.mark.integration


def test_start_stores_a_running_event_and_takes_the_lock(
    recorder: EventRecorder, events_db: Database, published: Published
) -> None:
    evt = recorder.start(**start_kwargs())
    assert len(evt.unique_id) == 24
    doc = events_db[EVENTS].find_one({"_id": ObjectId(evt.unique_id)})
    assert doc is not None
    assert doc["uniqueid"] == ObjectId(evt.unique_id)
    assert doc["running"] is True
    assert doc["endtime"] == ZERO_TIME
    assert doc["kind"] == {"type": "permission", "name": "app.update.env.set"}
    assert doc["owner"] == {"type": "user", "name": "dev@example.com"}
    assert doc["target"] == {"type": "app", "value": "myapp"}
    assert doc["allowed"] == {
        "scheme": "app.read.events",
        "contexts": [{"ctxtype": "team", "value": "myteam"}, {"ctxtype": "app", "value": "myapp"}],
    }
    assert doc["allowedcancel"] == {"scheme": "", "contexts": []}
    assert doc["startcustomdata"][1] == {"name": "Envs.0.Name", "value": "FOO"}
    assert doc["instance"]["name"] == "test-1"
    lock = events_db[LOCKS].find_one({"_id": "app(myapp)"})
    assert lock is not None and lock["event"] == evt.id
    assert published == []
    evt.done()


def test_done_stores_log_releases_lock_and_publishes_after_write(
    recorder: EventRecorder, events_db: Database, published: Published
) -> None:
    seen: list[dict] = []

    def publish(key: str, body: dict) -> None:
        # The finished notice must come after the write: the event is already final.
        seen.append(events_db[EVENTS].find_one({"_id": ObjectId(body["id"])}) or {})
        published(key, body)

    recorder.publish = publish
    evt = recorder.start(**start_kwargs())
    evt.log("---- Setting 1 new environment variables ----\n")
    evt.log("restarting app\n")
    evt.done(end_custom_data={"image": "v1"})
    doc = events_db[EVENTS].find_one({"_id": evt.id})
    assert doc is not None
    assert doc["running"] is False
    assert doc["endtime"] > doc["starttime"] or doc["endtime"] == doc["starttime"]
    assert doc["error"] == ""
    assert doc["endcustomdata"] == {"image": "v1"}
    assert [e["message"] for e in doc["structuredlog"]] == [
        "---- Setting 1 new environment variables ----\n",
        "restarting app\n",
    ]
    lines = doc["log"].splitlines()
    assert lines[0].endswith(" +0000: ---- Setting 1 new environment variables ----")
    assert lines[1].endswith(" +0000: restarting app")
    assert events_db[LOCKS].count_documents({}) == 0
    assert published == [("events.event.finished", {"id": evt.unique_id})]
    assert seen[0]["running"] is False
    evt.done(error="again")  # a second done changes nothing
    assert events_db[EVENTS].find_one({"_id": evt.id})["error"] == ""
    assert len(published) == 1


def test_record_finishes_with_the_exception_text_and_reraises(
    recorder: EventRecorder, events_db: Database, published: Published
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with recorder.record(**start_kwargs()) as evt:
            evt.log("working\n")
            raise RuntimeError("boom")
    doc = events_db[EVENTS].find_one({"_id": evt.id})
    assert doc["error"] == "boom"
    assert doc["running"] is False
    assert doc["structuredlog"][0]["message"] == "working\n"
    assert events_db[LOCKS].count_documents({}) == 0
    with recorder.record(**start_kwargs()) as again:
        pass
    assert events_db[EVENTS].find_one({"_id": again.id})["error"] == ""
    assert [b["id"] for _, b in published] == [evt.unique_id, again.unique_id]


def test_lock_conflict_names_the_holder_and_stores_nothing(
    recorder: EventRecorder, events_db: Database
) -> None:
    holder = recorder.start(**start_kwargs(target=Target("pool", "p1"), kind="pool.update"))
    started = events_db[EVENTS].find_one({"_id": holder.id})["starttime"]
    with pytest.raises(EventLocked) as err:
        recorder.start(
            **start_kwargs(target=Target("pool", "p1"), kind="pool.delete", owner=user("b@x.io"))
        )
    assert err.value.status == 409  # tsuru: 500 (docs/compatibility.md)
    assert str(err.value) == (
        'event locked: pool(p1) running "pool.update" start by user dev@example.com at '
        + started.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert events_db[EVENTS].count_documents({}) == 1
    holder.done()
    recorder.start(**start_kwargs(target=Target("pool", "p1"), kind="pool.delete")).done()


def test_locked_extra_target_conflicts_and_message_describes_main_target(
    recorder: EventRecorder, events_db: Database
) -> None:
    swap = recorder.start(
        **start_kwargs(kind="app.update.swap", extra_targets=[(Target("app", "other"), True)])
    )
    with pytest.raises(
        EventLocked, match=r"^event locked: app\(myapp\) running \"app.update.swap\""
    ):
        recorder.start(**start_kwargs(target=Target("app", "other")))
    # The failed start released the locks it had taken before meeting the holder.
    assert {d["_id"] for d in events_db[LOCKS].find()} == {"app(myapp)", "app(other)"}
    swap.done()
    assert events_db[LOCKS].count_documents({}) == 0


def test_non_locking_events_never_conflict(recorder: EventRecorder, events_db: Database) -> None:
    holder = recorder.start(**start_kwargs())
    shell = recorder.start(**start_kwargs(kind="app.run.shell", lock=False))
    assert events_db[LOCKS].count_documents({}) == 1
    shell.done()
    holder.done()


def test_app_start_waits_for_the_holder_then_succeeds(
    recorder: EventRecorder, events_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder.app_lock_retry = 60.0
    holder = recorder.start(**start_kwargs())
    refused = threading.Event()
    real_acquire = locks.acquire

    def acquire(*args: object, **kwargs: object) -> None:
        try:
            real_acquire(*args, **kwargs)  # type: ignore[arg-type]
        except EventLocked:
            refused.set()
            raise

    monkeypatch.setattr(locks, "acquire", acquire)
    result: list = []
    thread = threading.Thread(
        target=lambda: result.append(recorder.start(**start_kwargs(kind="app.deploy")))
    )
    thread.start()
    refused.wait()  # the second start met the lock at least once and keeps polling
    holder.done()
    thread.join()
    evt = result[0]
    doc = events_db[EVENTS].find_one({"_id": evt.id})
    assert doc["running"] is True and doc["kind"]["name"] == "app.deploy"
    assert events_db[EVENTS].find_one({"_id": holder.id})["running"] is False
    assert events_db[LOCKS].find_one({"_id": "app(myapp)"})["event"] == evt.id
    evt.done()


def test_app_start_gives_up_after_the_retry_window(recorder: EventRecorder) -> None:
    holder = recorder.start(**start_kwargs())
    with pytest.raises(EventLocked):
        recorder.start(**start_kwargs(kind="app.deploy"))
    holder.done()


def test_blocked_event_is_stored_finished_and_published(
    recorder: EventRecorder, events_db: Database, published: Published
) -> None:
    add_block(events_db, kind_name="app.update", reason="maintenance window")
    with pytest.raises(EventBlocked) as err:
        recorder.start(**start_kwargs())
    message = (
        'error running "app.update.env.set" on app(myapp): block app.update by all users '
        "on all targets: maintenance window"
    )
    assert str(err.value) == message and err.value.status == 500
    doc = events_db[EVENTS].find_one({})
    assert doc["running"] is False and doc["error"] == message
    assert events_db[LOCKS].count_documents({}) == 0
    assert published == [("events.event.finished", {"id": str(doc["_id"])})]


def test_block_conditions_and_event_block_exemption(
    recorder: EventRecorder, events_db: Database
) -> None:
    add_block(events_db, conditions={"pool": "pool2"})
    recorder.start(**start_kwargs(custom_data=[{"name": "pool", "value": "pool1"}])).done()
    with pytest.raises(EventBlocked):
        recorder.start(**start_kwargs(custom_data=[{"name": "pool", "value": "pool2"}]))
    add_block(events_db)  # blocks everything ...
    evt = recorder.start(
        **start_kwargs(target=Target("event-block", "x"), kind="event-block.remove")
    )  # ... but event-block targets
    evt.done()
    events_db["event_blocks"].update_many({}, {"$set": {"active": False}})
    recorder.start(**start_kwargs()).done()


def test_internal_events_have_internal_kind_and_owner(
    recorder: EventRecorder, events_db: Database
) -> None:
    evt = recorder.start(
        **start_kwargs(kind="healer", target=Target("node", "n1"), internal=True,
                       allowed=Allowed("pool.read.events", (("pool", "p"),)))
    )  # fmt: skip
    evt.done()
    doc = events_db[EVENTS].find_one({"_id": evt.id})
    assert doc["kind"] == {"type": "internal", "name": "healer"}
    assert doc["owner"] == {"type": "internal", "name": ""}


def test_cancel_requested_acknowledges_and_done_marks_canceled(
    recorder: EventRecorder, events_db: Database
) -> None:
    evt = recorder.start(
        **start_kwargs(kind="app.deploy", cancelable=True,
                       allowed_cancel=Allowed("app.update.events", (("app", "myapp"),)))
    )  # fmt: skip
    assert evt.cancel_requested() is False
    events_db[EVENTS].update_one(
        {"_id": evt.id},
        {"$set": {"cancelinfo.asked": True, "cancelinfo.reason": "r", "cancelinfo.owner": "x"}},
    )
    assert evt.cancel_requested() is True
    info = events_db[EVENTS].find_one({"_id": evt.id})["cancelinfo"]
    assert info["canceled"] is True and info["acktime"] > ZERO_TIME
    evt.done()
    assert events_db[EVENTS].find_one({"_id": evt.id})["error"] == "canceled by user request"


def test_set_other_data_is_stored_while_running(
    recorder: EventRecorder, events_db: Database
) -> None:
    evt = recorder.start(**start_kwargs(kind="app.deploy"))
    evt.set_other_data({"version": 3})
    assert events_db[EVENTS].find_one({"_id": evt.id})["othercustomdata"] == {"version": 3}
    evt.done()


def test_cleaner_finishes_dead_events_and_drops_their_locks(
    recorder: EventRecorder, events_db: Database, published: Published
) -> None:
    dead = recorder.start(**start_kwargs())
    recorder._untrack(dead)  # as if its process had died: nobody beats for it
    live = recorder.start(**start_kwargs(target=Target("pool", "p")))
    old = now().replace(year=2020)
    events_db[EVENTS].update_one({"_id": dead.id}, {"$set": {"lockupdatetime": old}})
    events_db[LOCKS].update_one({"event": dead.id}, {"$set": {"updated": old}})
    assert expire_stale_events(events_db, 300.0, publish=published) == 1
    doc = events_db[EVENTS].find_one({"_id": dead.id})
    assert doc["running"] is False
    assert doc["error"].startswith("event expired, no update for ")
    assert doc["error"].endswith("s") and "h" in doc["error"]
    assert events_db[LOCKS].find_one({"event": dead.id}) is None
    assert events_db[EVENTS].find_one({"_id": live.id})["running"] is True
    assert published == [("events.event.finished", {"id": dead.unique_id})]
    assert expire_stale_events(events_db, 300.0, publish=published) == 0
    dead.done()  # the late done() of an expired event changes nothing
    assert events_db[EVENTS].find_one({"_id": dead.id})["error"].startswith("event expired")
    live.done()


def test_stale_lock_is_taken_over_and_its_event_expired(
    recorder: EventRecorder, events_db: Database, published: Published
) -> None:
    dead = recorder.start(**start_kwargs(target=Target("pool", "p")))
    recorder._untrack(dead)
    old = now().replace(year=2020)
    events_db[LOCKS].update_one({"event": dead.id}, {"$set": {"updated": old}})
    newcomer = recorder.start(**start_kwargs(target=Target("pool", "p"), kind="pool.delete"))
    assert events_db[LOCKS].find_one({"_id": "pool(p)"})["event"] == newcomer.id
    doc = events_db[EVENTS].find_one({"_id": dead.id})
    assert doc["running"] is False and doc["error"].startswith("event expired, no update for ")
    assert published == [("events.event.finished", {"id": dead.unique_id})]
    newcomer.done()


def test_ensure_indexes_is_idempotent(recorder: EventRecorder) -> None:
    recorder.ensure_indexes()
    recorder.ensure_indexes()


def test_start_validates_kind_and_target(recorder: EventRecorder) -> None:
    with pytest.raises(ValueError):
        recorder.start(**start_kwargs(kind=""))
    with pytest.raises(ValueError):
        recorder.start(**start_kwargs(target=Target("", "x")))
