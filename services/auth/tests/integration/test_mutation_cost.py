"""What one mutation costs the database: a team update, counted command by command.

PUT /teams/{name} is the write path the storage bench measures (bench/storage.py). Its
database work is the team read (tsuru answers 404 before any event), the event's insert
(which takes its lock), the update and the event's finish (which frees the lock): four
round trips, no lock documents; the active blocks are read once per
``BLOCKS_CACHE_SECONDS`` by each process, not per mutation.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient, monitoring

from services.auth.adapters.team_usage import NoTeamUsage
from services.auth.domain import errors
from services.auth.domain.models import Quota, Team
from services.auth.operations.deps import Deps
from services.auth.operations.teams import update_team
from services.auth.storage.mongo import INDEXES, mongo_stores
from services.auth.tests.fakes import RecordingMailer
from shared.events import (
    EVENTS,
    EventLocked,
    EventRecorder,
    MongoEventStorage,
    Target,
)
from shared.events.model import Allowed, EventSpec, Owner
from shared.events.storage import KINDS
from shared.identity import Grant, Identity
from shared.mongo import ensure_indexes
from shared.testing.bus import RecordingPublisher

pytestmark = pytest.mark.integration

ADMIN = Identity(kind="user", name="root@example.com", email="root@example.com",
                 grants=(Grant(""),))  # fmt: skip


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        collection = event.command.get(event.command_name)
        self.seen.append((event.database_name, event.command_name, str(collection)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def wired(mongo_url: str, namespace: str) -> Iterator[tuple[Deps, Commands, Any]]:
    commands = Commands()
    client: MongoClient = MongoClient(mongo_url, tz_aware=True, event_listeners=[commands])
    auth, events = (f"{namespace}_{ctx}_{secrets.token_hex(3)}" for ctx in ("auth", "events"))
    ensure_indexes(client[auth], INDEXES)
    storage = MongoEventStorage(client[events])
    storage.ensure_indexes()
    # The services reuse blocks for BLOCKS_CACHE_SECONDS (0.25 s); here longer than the test,
    # so that a slow machine cannot make a second read appear.
    recorder = EventRecorder(storage, instance="auth", heartbeat=0, blocks_cache=3600)
    deps = Deps(
        stores=mongo_stores(client[auth]),
        recorder=recorder,
        publisher=RecordingPublisher(),
        mailer=RecordingMailer(),
        team_usage=NoTeamUsage(),
    )
    deps.stores.teams.add(Team("red", "root@example.com", [], Quota()))
    try:
        yield deps, commands, client[events]
    finally:
        client.drop_database(auth)
        client.drop_database(events)
        client.close()


def test_a_team_update_costs_four_round_trips_and_no_lock_document(
    wired: tuple[Deps, Commands, Any],
) -> None:
    deps, commands, events_db = wired
    update_team(deps, ADMIN, "red", "", ["warm"], [])  # connections warm, blocks read
    steps = [(name, collection) for _db, name, collection in commands.seen[-6:]]
    assert steps == [
        ("find", "teams"),
        ("insert", EVENTS),
        ("update", KINDS),  # the first event of its kind in this process notes the kind
        ("find", "event_blocks"),
        ("update", "teams"),
        ("update", EVENTS),
    ]
    commands.seen.clear()
    update_team(deps, ADMIN, "red", "", ["a", "b"], [{"name": "tag", "value": "a"}])
    steps = [(name, collection) for _db, name, collection in commands.seen]
    assert steps == [("find", "teams"), ("insert", EVENTS), ("update", "teams"), ("update", EVENTS)]
    assert deps.stores.teams.get("red").tags == ["a", "b"]  # type: ignore[union-attr]
    [event] = list(events_db[EVENTS].find({"target.value": "red"}).sort("_id", -1).limit(1))
    assert (event["kind"]["name"], event["running"], event["error"]) == ("team.update", False, "")
    assert event["lockkeys"] == ["team(red)"]
    assert "event_locks" not in events_db.list_collection_names()


def test_a_missing_team_costs_one_read_and_records_nothing(
    wired: tuple[Deps, Commands, Any],
) -> None:
    deps, commands, events_db = wired
    before = events_db[EVENTS].count_documents({})
    commands.seen.clear()
    with pytest.raises(errors.TeamNotFound):
        update_team(deps, ADMIN, "nope", "", ["a"], [])
    assert [(name, c) for _db, name, c in commands.seen] == [("find", "teams")]
    assert events_db[EVENTS].count_documents({}) == before


def test_a_locked_team_costs_two_reads_and_an_insert_refused(
    wired: tuple[Deps, Commands, Any],
) -> None:
    deps, commands, events_db = wired
    holder = deps.recorder.start(
        EventSpec(target=Target("team", "red"), kind="team.update.quota",
                  owner=Owner("user", "other@example.com"), allowed=Allowed("team.read.events"))
    )  # fmt: skip
    commands.seen.clear()
    with pytest.raises(
        EventLocked, match=r'^event locked: team\(red\) running "team.update.quota"'
    ):
        update_team(deps, ADMIN, "red", "", ["a"], [])
    assert [(name, c) for _db, name, c in commands.seen] == [
        ("find", "teams"),
        ("insert", EVENTS),  # refused by the running event's lock
        ("find", EVENTS),  # who holds it, for the message
    ]
    assert deps.stores.teams.get("red").tags == []  # type: ignore[union-attr]
    assert events_db[EVENTS].count_documents({"running": True}) == 1
    holder.done()
