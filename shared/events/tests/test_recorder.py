"""EventRecorder on both storages (the real database and the memory fake)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from shared.events import (
    Allowed,
    Block,
    EventBlocked,
    EventLocked,
    EventRecorder,
    EventStorage,
    Kind,
    Owner,
    Target,
)
from shared.events.model import now
from shared.events.tests.conftest import Published
from shared.events.tests.factories import new_block, start_spec, user
from shared.events.tests.helpers import all_events, backdate, lock_ids
from shared.golang.times import ZERO_TIME

pytestmark = pytest.mark.integration


def test_start_stores_a_running_event_and_takes_the_lock(
    recorder: EventRecorder, storage: EventStorage, published: Published
) -> None:
    evt = recorder.start(start_spec())
    assert len(evt.unique_id) == 24
    r = storage.get_event(evt.id)
    assert r is not None and r.running and r.end_time == ZERO_TIME
    assert r.kind == Kind("permission", "app.update.env.set")
    assert r.owner == Owner("user", "dev@example.com")
    assert r.target == Target("app", "myapp")
    assert r.allowed == Allowed("app.read.events", (("team", "myteam"), ("app", "myapp")))
    assert r.allowed_cancel == Allowed("")
    assert r.start_custom_data[1] == {"name": "Envs.0.Name", "value": "FOO"}
    assert r.instance.name == "test-1" and r.holder == recorder.holder
    held = storage.lock_holder("app(myapp)")
    assert held is not None and held.id == evt.id
    assert published == []
    evt.done()


def test_done_stores_log_releases_lock_and_publishes_after_write(
    recorder: EventRecorder, storage: EventStorage, published: Published
) -> None:
    seen: list[bool] = []

    def publish(key: str, body: dict) -> None:
        # The finished notice must come after the write: the event is already final.
        record = storage.get_event(evt.id)
        seen.append(record is not None and not record.running)
        published(key, body)

    recorder.publish = publish
    evt = recorder.start(start_spec())
    evt.log("---- Setting 1 new environment variables ----\n")
    evt.log("restarting app\n")
    evt.done(end_custom_data={"image": "v1"})
    r = storage.get_event(evt.id)
    assert r is not None and not r.running and r.end_time >= r.start_time
    assert (r.error, r.end_custom_data) == ("", {"image": "v1"})
    assert [e.message for e in r.structured_log] == [
        "---- Setting 1 new environment variables ----\n",
        "restarting app\n",
    ]
    lines = r.log.splitlines()
    assert lines[0].endswith(" +0000: ---- Setting 1 new environment variables ----")
    assert lines[1].endswith(" +0000: restarting app")
    assert lock_ids(storage) == set()
    assert published == [("events.event.finished", {"id": evt.unique_id})]
    assert seen == [True]
    evt.done(error="again")  # a second done changes nothing
    assert storage.get_event(evt.id).error == ""  # type: ignore[union-attr]
    assert len(published) == 1


def test_record_finishes_with_the_exception_text_and_reraises(
    recorder: EventRecorder, storage: EventStorage, published: Published
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with recorder.record(start_spec()) as evt:
            evt.log("working\n")
            raise RuntimeError("boom")
    r = storage.get_event(evt.id)
    assert r is not None and (r.error, r.running) == ("boom", False)
    assert r.structured_log[0].message == "working\n"
    assert lock_ids(storage) == set()
    with recorder.record(start_spec()) as again:
        pass
    assert storage.get_event(again.id).error == ""  # type: ignore[union-attr]
    assert [b["id"] for _, b in published] == [evt.unique_id, again.unique_id]


def test_log_tees_to_attached_sinks_and_drops_a_failing_one(recorder: EventRecorder) -> None:
    got: list[str] = []

    class Sink:
        def write(self, message: str) -> None:
            got.append(message)

    class Broken:
        def write(self, message: str) -> None:
            raise BrokenPipeError("client went away")

    evt = recorder.start(start_spec())
    evt.attach(Sink())
    broken = Broken()
    evt.attach(broken)
    evt.log("one\n")
    evt.write(b"two\n")
    evt.detach(broken)  # already detached: no error
    evt.done()
    assert got == ["one\n", "two\n"]


def test_lock_conflict_names_the_holder_and_stores_nothing(
    recorder: EventRecorder, storage: EventStorage
) -> None:
    holder = recorder.start(start_spec(target=Target("pool", "p1"), kind="pool.update"))
    started = storage.get_event(holder.id).start_time  # type: ignore[union-attr]
    with pytest.raises(EventLocked) as err:
        recorder.start(
            start_spec(target=Target("pool", "p1"), kind="pool.delete", owner=user("b@x.io"))
        )
    assert err.value.status == 409  # tsuru: 500 (docs/compatibility.md)
    assert str(err.value) == (
        'event locked: pool(p1) running "pool.update" start by user dev@example.com at '
        + started.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert len(all_events(storage)) == 1
    holder.done()
    recorder.start(start_spec(target=Target("pool", "p1"), kind="pool.delete")).done()


def test_locked_extra_target_conflicts_and_message_describes_main_target(
    recorder: EventRecorder, storage: EventStorage
) -> None:
    swap = recorder.start(
        start_spec(kind="app.update.swap", extra_targets=[(Target("app", "other"), True)])
    )
    with pytest.raises(
        EventLocked, match=r"^event locked: app\(myapp\) running \"app.update.swap\""
    ):
        recorder.start(start_spec(target=Target("app", "other")))
    # The failed start stored nothing: only the holder's locks are held.
    assert lock_ids(storage) == {"app(myapp)", "app(other)"}
    assert [r.id for r in all_events(storage)] == [swap.id]
    swap.done()
    assert lock_ids(storage) == set()


def test_non_locking_events_never_conflict(recorder: EventRecorder, storage: EventStorage) -> None:
    holder = recorder.start(start_spec())
    shell = recorder.start(start_spec(kind="app.run.shell", lock=False))
    assert lock_ids(storage) == {"app(myapp)"}
    shell.done()
    holder.done()


def test_app_start_waits_for_the_holder_then_succeeds(
    recorder: EventRecorder, storage: EventStorage
) -> None:
    recorder.app_lock_retry = 60.0
    holder = recorder.start(start_spec())
    refused = threading.Event()
    real = storage.lock_holder

    def lock_holder(lock_id: str):  # type: ignore[no-untyped-def]
        refused.set()  # the newcomer met the held lock at least once
        return real(lock_id)

    storage.lock_holder = lock_holder  # type: ignore[method-assign]
    result: list = []
    thread = threading.Thread(
        target=lambda: result.append(recorder.start(start_spec(kind="app.deploy")))
    )
    thread.start()
    refused.wait()
    holder.done()
    thread.join()
    evt = result[0]
    assert storage.get_event(evt.id).kind.name == "app.deploy"  # type: ignore[union-attr]
    assert storage.get_event(holder.id).running is False  # type: ignore[union-attr]
    assert storage.lock_holder("app(myapp)").id == evt.id  # type: ignore[union-attr]
    evt.done()


def test_app_start_gives_up_after_the_retry_window(recorder: EventRecorder) -> None:
    holder = recorder.start(start_spec())
    with pytest.raises(EventLocked):
        recorder.start(start_spec(kind="app.deploy"))
    holder.done()


def test_blocked_event_is_stored_finished_and_published(
    recorder: EventRecorder,
    storage: EventStorage,
    published: Published,
    add_block: Callable[[Block], None],
) -> None:
    add_block(new_block(kind_name="app.update", reason="maintenance window"))
    with pytest.raises(EventBlocked) as err:
        recorder.start(start_spec())
    message = (
        'error running "app.update.env.set" on app(myapp): block app.update by all users '
        "on all targets: maintenance window"
    )
    assert str(err.value) == message and err.value.status == 500
    [r] = all_events(storage)
    assert (r.running, r.error) == (False, message)
    assert lock_ids(storage) == set()
    assert published == [("events.event.finished", {"id": r.unique_id})]


def test_block_conditions_and_event_block_exemption(
    recorder: EventRecorder, add_block: Callable[[Block], None]
) -> None:
    add_block(new_block(conditions={"pool": "pool2"}))
    recorder.start(start_spec(custom_data=[{"name": "pool", "value": "pool1"}])).done()
    with pytest.raises(EventBlocked):
        recorder.start(start_spec(custom_data=[{"name": "pool", "value": "pool2"}]))
    add_block(new_block())  # blocks everything ...
    evt = recorder.start(start_spec(target=Target("event-block", "x"), kind="event-block.remove"))
    evt.done()  # ... but event-block targets


def test_internal_events_have_internal_kind_and_owner(
    recorder: EventRecorder, storage: EventStorage
) -> None:
    evt = recorder.start(
        start_spec(kind="healer", target=Target("node", "n1"), internal=True,
                   allowed=Allowed("pool.read.events", (("pool", "p"),)))
    )  # fmt: skip
    evt.done()
    r = storage.get_event(evt.id)
    assert (
        r is not None and r.kind == Kind("internal", "healer") and r.owner == Owner("internal", "")
    )


def test_cancel_requested_acknowledges_and_done_marks_canceled(
    recorder: EventRecorder, storage: EventStorage
) -> None:
    evt = recorder.start(
        start_spec(kind="app.deploy", cancelable=True,
                   allowed_cancel=Allowed("app.update.events", (("app", "myapp"),)))
    )  # fmt: skip
    assert evt.cancel_requested() is False
    assert storage.request_cancel(evt.id, owner="x", reason="r", when=now())
    assert evt.cancel_requested() is True
    info = storage.cancel_info(evt.id)
    assert info is not None and info.canceled and info.ack_time > ZERO_TIME
    evt.done()
    assert storage.get_event(evt.id).error == "canceled by user request"  # type: ignore[union-attr]


def test_set_other_data_is_stored_while_running(
    recorder: EventRecorder, storage: EventStorage
) -> None:
    evt = recorder.start(start_spec(kind="app.deploy"))
    evt.set_other_data({"version": 3})
    assert storage.get_event(evt.id).other_custom_data == {"version": 3}  # type: ignore[union-attr]
    evt.done()


def test_cleaner_finishes_dead_events_and_drops_their_locks(
    recorder: EventRecorder, storage: EventStorage, published: Published
) -> None:
    dead = recorder.start(start_spec())
    recorder.forget(dead)  # as if its process had died: nobody beats for it
    live = recorder.start(start_spec(target=Target("pool", "p")))
    backdate(storage, dead.id, now().replace(year=2020))
    assert recorder.expire_stale() == 1
    r = storage.get_event(dead.id)
    assert r is not None and not r.running
    assert r.error.startswith("event expired, no update for ") and "h" in r.error
    assert storage.lock_holder("app(myapp)") is None
    assert storage.get_event(live.id).running  # type: ignore[union-attr]
    assert published == [("events.event.finished", {"id": dead.unique_id})]
    assert recorder.expire_stale() == 0
    dead.done()  # the late done() of an expired event changes nothing
    assert storage.get_event(dead.id).error.startswith("event expired")  # type: ignore[union-attr]
    live.done()


def test_stale_lock_is_taken_over_and_its_event_expired(
    recorder: EventRecorder, storage: EventStorage, published: Published
) -> None:
    dead = recorder.start(start_spec(target=Target("pool", "p")))
    recorder.forget(dead)
    backdate(storage, dead.id, now().replace(year=2020))
    newcomer = recorder.start(start_spec(target=Target("pool", "p"), kind="pool.delete"))
    assert storage.lock_holder("pool(p)").id == newcomer.id  # type: ignore[union-attr]
    r = storage.get_event(dead.id)
    assert r is not None and not r.running and r.error.startswith("event expired, no update for ")
    assert published == [("events.event.finished", {"id": dead.unique_id})]
    newcomer.done()


def test_start_validates_kind_and_target(recorder: EventRecorder) -> None:
    with pytest.raises(ValueError):
        recorder.start(start_spec(kind=""))
    with pytest.raises(ValueError):
        recorder.start(start_spec(target=Target("", "x")))


def test_cached_blocks_are_read_once_per_period_and_a_new_block_counts_after_it(
    storage: EventStorage, add_block: Callable[[Block], None]
) -> None:
    reads: list[int] = []
    real = storage.active_blocks

    def active_blocks():  # type: ignore[no-untyped-def]
        reads.append(1)
        return real()

    storage.active_blocks = active_blocks  # type: ignore[method-assign]
    recorder = EventRecorder(storage, heartbeat=0, blocks_cache=3600)
    for n in range(3):
        recorder.start(start_spec(target=Target("pool", f"p{n}"))).done()
    assert len(reads) == 1  # one read served the three starts
    add_block(new_block(reason="freeze"))
    # Within the period the cached answer stands (what the events service waits out
    # before answering the block's addition) ...
    recorder.start(start_spec(target=Target("pool", "before"))).done()
    recorder.blocks_cache = 0.05
    time.sleep(0.1)
    # ... and once it is over, the block is read and refuses the next start.
    with pytest.raises(EventBlocked, match="freeze"):
        recorder.start(start_spec(target=Target("pool", "after")))
    assert len(reads) == 2
    assert lock_ids(storage) == set()
