from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.database import Database


@pytest.fixture
def events_db(mongo_url: str, namespace: str) -> Iterator[Database]:
    client: MongoClient = MongoClient(mongo_url, tz_aware=True)
    name = f"{namespace}_events_{secrets.token_hex(3)}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


# -- the service with signed identities ------------------------------------------

from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from services.events.bootstrap import create_app  # noqa: E402
from services.events.settings import EventsSettings  # noqa: E402
from services.events.storage.mongo import INDEXES, mongo_stores  # noqa: E402
from services.events.tests.fakes import fake_deps  # noqa: E402
from shared.events import EventRecorder, MongoEventStorage  # noqa: E402
from shared.identity import Grant, Identity  # noqa: E402
from shared.mongo import ensure_indexes  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.testing.bus import RecordingPublisher  # noqa: E402
from shared.testing.identity import pending  # noqa: E402

SECRET = b"events-test-secret-0123456789"


def user(email: str, *grants: Grant) -> Identity:
    return Identity(
        kind="user", name=email, email=email, token_kind="session",
        grants=(*grants, Grant("user", "user", email)),
    )  # fmt: skip


ADMIN = user("admin@example.com", Grant(""))


def auth(identity: Identity) -> dict[str, str]:
    return pending(identity, SECRET)


@dataclass
class Service:
    app: Flask
    client: FlaskClient
    db: Database
    recorder: EventRecorder
    published: list[tuple[str, dict]] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, identity: Identity | None = ADMIN, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        if identity is not None:
            headers.update(auth(identity))
        return self.client.open(path, method=method, headers=headers, **kw)


@pytest.fixture
def service(events_db: Database, namespace: str, mongo_url: str) -> Iterator[Service]:
    """The events service on the real database (fakes only for the bus and auth)."""
    base = Settings(
        data_dir="/nonexistent",
        namespace=namespace,
        mongo_url=mongo_url,
        amqp_url="amqp://unused",
        identity_secret=SECRET,
    )
    deps = fake_deps()
    storage = MongoEventStorage(events_db)
    storage.ensure_indexes()
    ensure_indexes(events_db, INDEXES)
    published = RecordingPublisher()
    recorder = EventRecorder(storage, publish=published.publish, instance="svc", app_lock_retry=0)
    deps.stores = mongo_stores(events_db)
    deps.recorder = recorder
    deps.publisher = published
    app = create_app(EventsSettings(base=base), deps)
    teams = deps.teams.teams  # type: ignore[attr-defined]
    svc = Service(app, app.test_client(), events_db, recorder, published, teams)
    yield svc
    recorder.close()


# -- each store on the real database and as the in-memory fake ---------------------

from collections.abc import Callable  # noqa: E402

from services.events.storage import memory  # noqa: E402
from services.events.storage.mongo.events import MongoEventStore  # noqa: E402
from shared.events import EVENTS, documents  # noqa: E402


@pytest.fixture(params=["memory", "mongo"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def event_store(kind: str, request: pytest.FixtureRequest) -> tuple[Any, Callable[[dict], None]]:
    if kind == "memory":
        store = memory.MemoryEventStore()
        return store, lambda doc: store.insert(documents.from_doc(doc))
    db: Database = request.getfixturevalue("events_db")
    storage = MongoEventStorage(db)
    storage.ensure_indexes()

    def insert(doc: dict) -> None:  # as the recorder stores it, its kind kept
        db[EVENTS].insert_one(doc)
        storage.add_kind(doc["kind"]["type"], doc["kind"]["name"])

    return MongoEventStore(db), insert
