"""Operations with in-memory stores and a recorder fake (no sockets)."""

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
from services.events.storage import memory
from services.events.tests.unit.factories import event_doc, webhook
from services.events.tests.unit.fakes import FakeRecorder
from shared.errors import Forbidden, Invalid
from shared.events import Target
from shared.identity import Grant, Identity


def who(*grants: Grant) -> Identity:
    return Identity(kind="user", name="u@example.com", email="u@example.com", grants=grants)


ADMIN = who(Grant(""))


def test_parse_uuid_rules() -> None:
    with pytest.raises(InvalidUUID, match="^uuid parameter is not ObjectId: xyz$"):
        events.get_event(memory.MemoryEventStore(), ADMIN, "xyz")
    with pytest.raises(InvalidUUID):
        events.get_event(memory.MemoryEventStore(), ADMIN, "z" * 24)


def test_cancel_race_reports_conflict() -> None:
    store = memory.MemoryEventStore()
    doc = event_doc(running=True, cancelable=True,
                    allowedcancel={"scheme": "app.update.events", "contexts": []})  # fmt: skip
    store.insert(doc)
    events.cancel_event(store, ADMIN, str(doc["_id"]), "r")
    with pytest.raises(CancelAlreadyRequested) as err:
        events.cancel_event(store, ADMIN, str(doc["_id"]), "r")
    assert err.value.status == 409
    finished = event_doc(cancelable=True)
    store.insert(finished)
    with pytest.raises(NotCancelable):
        events.cancel_event(store, ADMIN, str(finished["_id"]), "r")


def test_blocks_add_and_remove_record_events() -> None:
    store, rec = memory.MemoryBlockStore(), FakeRecorder()
    with pytest.raises(Invalid, match="^reason is required$"):
        blocks.add_block(store, rec, ADMIN, {"reason": ""}, [])
    assert rec.events == []
    block = blocks.add_block(store, rec, ADMIN, {"reason": "r", "kind_name": "app"}, [])
    assert rec.events[-1].kind == "event-block.add"
    assert rec.events[-1].kwargs["target"] == Target("event-block", str(block.id))
    missing = str(ObjectId())
    with pytest.raises(BlockNotFound):
        blocks.remove_block(store, rec, ADMIN, missing)
    assert rec.events[-1].error == f"active event block with id {missing} not found"
    blocks.remove_block(store, rec, ADMIN, str(block.id))
    assert store.list(True) == []
    with pytest.raises(Forbidden):
        blocks.list_blocks(store, who(Grant("event-block", "team", "t")), None)
    assert [b["Active"] for b in blocks.list_blocks(store, ADMIN, "nonsense")] == [False]


def test_webhooks_secret_and_owner_rules() -> None:
    store, rec = memory.MemoryWebhookStore(), FakeRecorder()
    t1 = who(Grant("webhook", "team", "t1"))
    secret = webhooks.create_webhook(store, rec, t1, webhook(team_owner=""), [], lambda: None)
    stored = store.get("hook")
    assert stored is not None and stored.team_owner == "t1" and stored.secret == secret
    assert "secret" not in webhooks.get_webhook(store, t1, "hook")
    webhooks.update_webhook(store, rec, t1, webhook(team_owner="t1", url="http://new"), [])
    updated = store.get("hook")
    assert updated is not None and updated.secret == secret and updated.url == "http://new"
    with pytest.raises(WebhookNotFound):
        webhooks.update_webhook(store, rec, t1, webhook(name="nope", team_owner="t1"), [])
    assert [e.kind for e in rec.events] == ["webhook.create", "webhook.update", "webhook.update"]
    assert rec.events[-1].error == "webhook not found"
    assert webhooks.list_webhooks(store, who()) == []
    with pytest.raises(Forbidden):
        webhooks.delete_webhook(store, rec, who(Grant("webhook", "team", "t2")), "hook", [])
    webhooks.delete_webhook(store, rec, t1, "hook", [])
    assert store.get("hook") is None
