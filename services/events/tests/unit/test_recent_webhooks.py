"""The webhook list each finished notice is matched to, read once per period."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from services.events.operations import webhooks
from services.events.storage.memory.webhooks import MemoryWebhookStore
from services.events.storage.recent import WEBHOOKS_CACHE_SECONDS, RecentWebhooks
from services.events.tests.fakes import fake_deps
from services.events.tests.unit.factories import webhook
from shared.identity import Grant, Identity
from shared.testing.events import FakeRecorder

ADMIN = Identity(kind="user", name="u@example.com", email="u@example.com", grants=(Grant(""),))


class Counting(MemoryWebhookStore):
    def __init__(self) -> None:
        super().__init__()
        self.lists = 0

    def list(self, teams: Any = None) -> Any:
        self.lists += 1
        return super().list(teams)


def test_the_whole_list_is_read_once_per_period_and_dropped_by_a_change_made_here() -> None:
    store = Counting()
    recent = RecentWebhooks(store, seconds=3600)
    assert recent.list() == [] and recent.list() == []
    assert store.lists == 1
    recent.create(webhook(name="a"))  # through it: its copy goes at once
    assert [h.name for h in recent.list()] == ["a"]
    assert recent.list(["myteam"])[0].name == "a"  # by team: read every time
    assert store.lists == 3
    store.create(webhook(name="b"))  # elsewhere: seen once the period is over
    assert [h.name for h in recent.list()] == ["a"]
    recent.seconds = 0.05
    time.sleep(0.1)
    assert [h.name for h in recent.list()] == ["a", "b"]
    assert recent.delete("a") and [h.name for h in recent.list()] == ["b"]


def test_a_webhook_change_answers_once_every_process_copy_is_older_than_it() -> None:
    deps = fake_deps()
    shared_store = deps.stores.webhooks
    # The worker's view of the same store, with its copy read before the change.
    worker = RecentWebhooks(shared_store, seconds=WEBHOOKS_CACHE_SECONDS)
    assert worker.list() == []
    webhooks.create_webhook(deps, ADMIN, webhook(name="hook"), [])
    assert [h.name for h in worker.list()] == ["hook"]  # the answer came after the period
    stored = shared_store.get("hook")
    assert stored is not None
    webhooks.update_webhook(deps, ADMIN, replace(stored, url="http://new"), [])
    assert worker.list()[0].url == "http://new"
    webhooks.delete_webhook(deps, ADMIN, "hook", [])
    assert worker.list() == []


def test_a_webhook_change_s_own_event_finishes_after_every_copy_is_older_than_it() -> None:
    """The webhook's own creation (update, removal) event is matched against the changed
    list too: it finishes only once the period has passed since the write."""
    deps = fake_deps()
    recorder = deps.recorder
    assert isinstance(recorder, FakeRecorder)
    webhooks.create_webhook(deps, ADMIN, webhook(name="hook"), [])
    created = deps.stores.webhooks.get("hook")
    assert created is not None
    event = recorder.last()
    assert event.kind.name == "webhook.create" and not event.running
    assert (event.end_time - created.created).total_seconds() >= WEBHOOKS_CACHE_SECONDS
    for change in (
        lambda: webhooks.update_webhook(deps, ADMIN, replace(created, url="http://new"), []),
        lambda: webhooks.delete_webhook(deps, ADMIN, "hook", []),
    ):
        before = time.monotonic()
        change()
        written = recorder.last()
        assert not written.running and time.monotonic() - before >= WEBHOOKS_CACHE_SECONDS
        assert (written.end_time - written.start_time).total_seconds() >= WEBHOOKS_CACHE_SECONDS
