"""Operations on the fake bundle (memory stores, FakeRecorder; no sockets)."""

from __future__ import annotations

import pytest
from bson import ObjectId

from services.events.domain.errors import (
    BlockNotFound,
    CancelAlreadyRequested,
    InvalidUUID,
    NotCancelable,
    WebhookNotFound,
)
from services.events.operations import blocks, events, webhooks
from services.events.operations.deps import Deps
from services.events.storage.memory import MemoryEventStore
from services.events.tests.fakes import fake_deps
from services.events.tests.unit.factories import event_record, webhook
from shared.errors import Forbidden, Invalid
from shared.events import BLOCKS_CACHE_SECONDS, EventBlocked, Target
from shared.identity import Grant, Identity
from shared.testing.events import FakeRecorder, spec


def who(*grants: Grant) -> Identity:
    return Identity(kind="user", name="u@example.com", email="u@example.com", grants=grants)


ADMIN = who(Grant(""))


def recorded(deps: Deps) -> FakeRecorder:
    assert isinstance(deps.recorder, FakeRecorder)
    return deps.recorder


def test_parse_uuid_rules() -> None:
    with pytest.raises(InvalidUUID, match="^uuid parameter is not ObjectId: xyz$"):
        events.get_event(fake_deps(), ADMIN, "xyz")
    with pytest.raises(InvalidUUID):
        events.get_event(fake_deps(), ADMIN, "z" * 24)


def test_cancel_race_reports_conflict() -> None:
    deps = fake_deps()
    store = deps.stores.events
    assert isinstance(store, MemoryEventStore)
    running = event_record(running=True, cancelable=True,
                           allowedcancel={"scheme": "app.update.events", "contexts": []})  # fmt: skip
    store.insert(running)
    events.cancel_event(deps, ADMIN, running.unique_id, "r")
    with pytest.raises(CancelAlreadyRequested) as err:
        events.cancel_event(deps, ADMIN, running.unique_id, "r")
    assert err.value.status == 409
    finished = event_record(cancelable=True)
    store.insert(finished)
    with pytest.raises(NotCancelable):
        events.cancel_event(deps, ADMIN, finished.unique_id, "r")


def test_blocks_add_and_remove_record_events() -> None:
    deps = fake_deps()
    rec = recorded(deps)
    with pytest.raises(Invalid, match="^reason is required$"):
        blocks.add_block(deps, ADMIN, {"reason": ""}, [])
    assert rec.records == []
    block = blocks.add_block(deps, ADMIN, {"reason": "r", "kind_name": "app"}, [])
    assert rec.last().kind.name == "event-block.add"
    assert rec.last().target == Target("event-block", str(block.id))
    missing = str(ObjectId())
    with pytest.raises(BlockNotFound):
        blocks.remove_block(deps, ADMIN, missing)
    assert rec.last().error == f"active event block with id {missing} not found"
    blocks.remove_block(deps, ADMIN, str(block.id))
    assert deps.stores.blocks.list(True) == []
    with pytest.raises(Forbidden):
        blocks.list_blocks(deps, who(Grant("event-block", "team", "t")), None)
    assert [b.active for b in blocks.list_blocks(deps, ADMIN, "nonsense")] == [False]


def test_an_active_block_refuses_later_events() -> None:
    deps = fake_deps()
    blocks.add_block(deps, ADMIN, {"reason": "freeze", "kind_name": "webhook"}, [])
    with pytest.raises(Exception, match="block webhook by all users on all targets: freeze"):
        webhooks.create_webhook(deps, ADMIN, webhook(), [])
    assert recorded(deps).last().error.endswith("freeze")


def test_a_blocks_change_answers_once_every_cached_read_is_older_than_it() -> None:
    deps = fake_deps()
    # Another service's recorder on the same event log, reusing the blocks it read.
    elsewhere = FakeRecorder(deps.recorder.memory, blocks_cache=BLOCKS_CACHE_SECONDS)  # type: ignore[attr-defined]
    target = Target("app", "myapp")

    def change_env() -> None:
        with elsewhere.record(spec(target=target, kind="app.update.env.set", owner=("user", "x"))):
            pass

    change_env()  # reads (and caches) the blocks: none
    block = blocks.add_block(deps, ADMIN, {"reason": "freeze", "kind_name": "app"}, [])
    with pytest.raises(EventBlocked, match="freeze"):
        change_env()  # started after the answer: the block holds
    blocks.remove_block(deps, ADMIN, str(block.id))
    change_env()  # and its removal too


def test_webhooks_secret_and_owner_rules() -> None:
    deps = fake_deps()
    store, rec = deps.stores.webhooks, recorded(deps)
    t1 = who(Grant("webhook", "team", "t1"))
    secret = webhooks.create_webhook(deps, t1, webhook(team_owner=""), [])
    stored = store.get("hook")
    assert stored is not None and stored.team_owner == "t1" and stored.secret == secret
    webhooks.update_webhook(deps, t1, webhook(team_owner="t1", url="http://new"), [])
    updated = store.get("hook")
    assert updated is not None and updated.secret == secret and updated.url == "http://new"
    with pytest.raises(WebhookNotFound):
        webhooks.update_webhook(deps, t1, webhook(name="nope", team_owner="t1"), [])
    assert rec.kinds() == ["webhook.create", "webhook.update", "webhook.update"]
    assert rec.last().error == "webhook not found"
    assert webhooks.list_webhooks(deps, who()) == []
    with pytest.raises(Forbidden):
        webhooks.delete_webhook(deps, who(Grant("webhook", "team", "t2")), "hook", [])
    webhooks.delete_webhook(deps, t1, "hook", [])
    assert store.get("hook") is None
