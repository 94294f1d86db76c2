"""Hand-over of a running event between processes, on the real database.

The opener (the apps web process) starts the event and hands it off; the adopter
(the provisioner's worker, here a second recorder) keeps it alive, logs, checks for
cancellation and finishes it. Two recorders on one database stand for two processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pymongo.database import Database

from shared.events import (
    Allowed,
    EventNotRunning,
    EventRecorder,
    MongoEventStorage,
    RunningEvent,
    Target,
)
from shared.events.model import now
from shared.events.tests.conftest import Published
from shared.events.tests.factories import start_spec
from shared.events.tests.helpers import backdate, lock_ids

pytestmark = pytest.mark.integration

DEPLOY = {
    "kind": "app.deploy",
    "cancelable": True,
    "allowed_cancel": Allowed("app.update.events", (("app", "myapp"),)),
}


@pytest.fixture
def storage(events_db: Database) -> MongoEventStorage:
    storage = MongoEventStorage(events_db)
    storage.ensure_indexes()
    return storage


@pytest.fixture
def web(storage: MongoEventStorage, published: Published) -> Iterator[EventRecorder]:
    rec = EventRecorder(storage, publish=published, instance="apps-web", heartbeat=0.1)
    yield rec
    rec.close()


@pytest.fixture
def worker(storage: MongoEventStorage, published: Published) -> Iterator[EventRecorder]:
    rec = EventRecorder(storage, publish=published, instance="prov-worker", heartbeat=0.1)
    yield rec
    rec.close()


def hand_off(evt: RunningEvent) -> str:
    with evt.handing_off() as event_id:
        return event_id  # stands for sending the id in a command


def wait_until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_the_adopter_holds_logs_and_finishes_with_the_openers_log(
    web: EventRecorder, worker: EventRecorder, storage: MongoEventStorage, published: Published
) -> None:
    with web.record(start_spec(**DEPLOY)) as opened:
        opened.log("---- deploying ----\n")
        event_id = hand_off(opened)
        with pytest.raises(RuntimeError, match="handed off"):
            opened.log("too late\n")
        adopted = worker.adopt(event_id)
    # The opener's record() ended: its done() left the event to the adopter.
    record = storage.get_event(adopted.id)
    assert record is not None and record.running and record.holder == worker.holder
    assert record.instance.name == "prov-worker"
    assert lock_ids(storage) == {"app(myapp)"}
    # The opener's heartbeat notices it lost the event and forgets it.
    wait_until(lambda: opened.lost)
    adopted.log("building\n")
    adopted.set_other_data({"version": 2})
    adopted.done(end_custom_data={"image": "v2"})
    final = storage.get_event(adopted.id)
    assert final is not None and not final.running and final.error == ""
    assert [e.message for e in final.structured_log] == ["---- deploying ----\n", "building\n"]
    assert final.other_custom_data == {"version": 2} and final.end_custom_data == {"image": "v2"}
    assert final.pending_log == ()
    assert lock_ids(storage) == set()
    assert published == [("events.event.finished", {"id": event_id})]


def test_the_openers_heartbeat_keeps_the_event_alive_until_adoption(
    storage: MongoEventStorage, worker: EventRecorder
) -> None:
    web = EventRecorder(storage, instance="apps-web", heartbeat=0.1, lock_expiry=1.0)
    evt = web.start(start_spec(**DEPLOY))
    event_id = hand_off(evt)
    time.sleep(1.5)  # past the expiry: only the opener's heartbeat keeps it alive
    assert web.expire_stale() == 0
    adopted = worker.adopt(event_id)
    adopted.done()
    web.close()


def test_the_adopter_sees_cancel_requests_and_only_the_holder_acknowledges(
    web: EventRecorder, worker: EventRecorder, storage: MongoEventStorage
) -> None:
    evt = web.start(start_spec(**DEPLOY))
    adopted = worker.adopt(hand_off(evt))
    assert adopted.cancel_requested() is False
    assert storage.request_cancel(adopted.id, owner="u", reason="too slow", when=now())
    assert adopted.cancel_requested() is True
    adopted.done()
    assert storage.get_event(adopted.id).error == "canceled by user request"  # type: ignore[union-attr]


def test_a_redelivered_command_is_adopted_again_and_the_old_holder_learns_it_lost(
    web: EventRecorder, worker: EventRecorder, storage: MongoEventStorage, published: Published
) -> None:
    evt = web.start(start_spec(**DEPLOY))
    event_id = hand_off(evt)
    first = worker.adopt(event_id)
    second_worker = EventRecorder(storage, publish=published, instance="prov-2", heartbeat=0.1)
    second = second_worker.adopt(event_id)  # the command came back to another worker
    assert storage.get_event(second.id).holder == second_worker.holder  # type: ignore[union-attr]
    assert storage.request_cancel(second.id, owner="u", reason="r", when=now())
    with pytest.raises(EventNotRunning, match="no longer held by this process"):
        first.cancel_requested()
    assert first.lost
    first.done(error="worker 1 finishing late")  # refused: not the holder any more
    assert storage.get_event(second.id).running  # type: ignore[union-attr]
    assert lock_ids(storage) == {"app(myapp)"}  # the running event keeps its lock
    second.done()
    assert storage.get_event(second.id).error == ""  # type: ignore[union-attr]
    assert published == [("events.event.finished", {"id": event_id})]
    second_worker.close()


def test_adopting_a_finished_or_unknown_event_fails(
    web: EventRecorder, worker: EventRecorder
) -> None:
    evt = web.start(start_spec())
    evt.done()
    with pytest.raises(EventNotRunning):
        worker.adopt(evt.unique_id)
    with pytest.raises(EventNotRunning):
        worker.adopt("not-an-id")


def test_a_hand_off_whose_send_fails_is_taken_back(
    web: EventRecorder, storage: MongoEventStorage
) -> None:
    with pytest.raises(ConnectionError):
        with web.record(start_spec(**DEPLOY)) as evt:
            evt.log("before\n")
            with evt.handing_off():
                raise ConnectionError("broker down")  # the command never left
    record = storage.get_event(evt.id)
    assert record is not None and not record.running and record.error == "broker down"
    assert [e.message for e in record.structured_log] == ["before\n"]
    assert lock_ids(storage) == set()


def test_an_adopter_that_dies_leaves_the_event_to_expire(
    storage: MongoEventStorage, web: EventRecorder, published: Published
) -> None:
    evt = web.start(start_spec(target=Target("app", "dying"), **DEPLOY))
    dying = EventRecorder(storage, instance="prov-dead", heartbeat=0.1)
    adopted = dying.adopt(hand_off(evt))
    dying.close()  # the worker process dies: its heartbeat stops
    backdate(storage, adopted.id, now().replace(year=2020))
    cleaner = EventRecorder(storage, publish=published, instance="events-worker")
    assert cleaner.expire_stale() == 1
    record = storage.get_event(adopted.id)
    assert record is not None and record.error.startswith("event expired, no update for ")
    assert lock_ids(storage) == set()


def test_the_adopters_log_streams_back_as_command_replies(
    web: EventRecorder, worker: EventRecorder
) -> None:
    from shared.bus import ReplyWriter

    replies: list[dict] = []
    evt = web.start(start_spec(**DEPLOY))
    adopted = worker.adopt(hand_off(evt))
    adopted.attach(ReplyWriter(replies.append))
    adopted.log("unit started\n")
    adopted.done()
    assert replies == [{"message": "unit started\n"}]
