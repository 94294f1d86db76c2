"""Newest-first pages of the event log: the windows' pages equal the one sorted query,
and every query they send walks an index (SecantusDB)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from services.events.domain.filters import EventFilter, Visibility
from services.events.storage.mongo.events import MongoEventStore, event_query, simple_find
from services.events.storage.mongo.newest import NEWEST
from services.events.tests.unit.factories import ZERO, event_doc
from shared.events import EVENTS, MongoEventStorage, documents
from shared.identity import Grant
from shared.testing.plans import stages

pytestmark = pytest.mark.integration

EVERYONE = Visibility.of([Grant("")])


def _spread_docs(now: datetime) -> list[dict]:
    """Events at every distance from now (future, ties, seconds, days, years, before
    1970, Go's zero time), some sharing their starttime, on two targets and kinds."""
    offsets = [-3600, 0, 0, 0, 1, 2, 3, 5, 9, 17, 40, 70, 300, 301, 4000, 90_000,
               3 * 86_400, 200 * 86_400, 2 * 365 * 86_400, 60 * 365 * 86_400]  # fmt: skip
    docs = []
    for i, offset in enumerate(offsets):
        when = now - timedelta(seconds=offset)
        docs.append(
            event_doc(
                starttime=when,
                target={"type": "app", "value": f"a{i % 2}"},
                kind={"type": "permission", "name": f"k{i % 3}"},
                running=i % 5 == 0,
            )
        )
    for i in (1, 3, 4, 12, 16):  # a1 as an extra target (ties with a1's own at 1..3)
        docs[i]["extratargets"] = [{"target": {"type": "pool", "value": "a1"}, "lock": False}]
    docs[7]["owner"] = docs[8]["owner"] = {"type": "token", "name": "tok"}
    for doc in docs[::3]:  # another team's: a member of myteam does not see them
        doc["allowed"] = {
            "scheme": "app.read.events",
            "contexts": [{"ctxtype": "team", "value": "x"}],
        }
    for i in (4, 10, 11):  # a user's own: seen through the user context only
        docs[i]["allowed"] = {
            "scheme": "user.read.events",
            "contexts": [{"ctxtype": "user", "value": "me@x"}],
        }
    docs[11]["kind"] = {"type": "internal", "name": "healer"}
    docs[13]["allowed"] = {"scheme": "cluster.read.events", "contexts": []}
    docs[14]["allowed"] = {  # myteam's context, but a scheme its app grant does not hold
        "scheme": "team.read.events",
        "contexts": [{"ctxtype": "team", "value": "myteam"}],
    }
    docs[2]["error"] = docs[5]["error"] = docs[17]["error"] = "boom"
    docs.append(event_doc(starttime=ZERO, target={"type": "app", "value": "a0"}))
    docs.append(event_doc(starttime=ZERO, target={"type": "app", "value": "a1"}))
    return docs


def test_events_newest_pages_are_the_simple_querys(event_store: tuple[Any, Callable]) -> None:
    """Pages read window by window equal the one sorted query: same order, same page
    boundaries, ties on starttime broken by id, whatever the distances in time."""
    store, insert = event_store
    now = datetime.now(UTC).replace(microsecond=0)
    docs = _spread_docs(now)
    for doc in docs:
        insert(doc)
    records = [documents.from_doc(doc) for doc in docs]
    in_5m = (now - timedelta(seconds=300)).isoformat()
    filters: list[dict[str, str | list[str]]] = [
        {},
        {"target.value": "a1"},
        {"target.type": "app", "target.value": "a1"},
        {"target.value": "a1", "kindname": "k1"},
        {"target.value": "a0", "since": in_5m},
        {"target.type": "pool"},
        {"kindname": "k2"},
        {"kindname": ["k0", "k2"]},
        {"kindname": ["k1", "healer"], "until": (now - timedelta(seconds=2)).isoformat()},
        {"kindtype": "internal"},
        {"ownername": "tok"},
        {"ownertype": "token"},
        {"erroronly": "true"},
        {"running": "true"},
        {"running": "true", "since": in_5m},
        {"running": "false", "kindname": "k1"},
        {"since": in_5m},
        {"until": (now - timedelta(seconds=5)).isoformat()},
        {"since": (now - timedelta(days=300)).isoformat(), "until": now.isoformat()},
        {"since": (now + timedelta(seconds=60)).isoformat(), "until": now.isoformat()},
    ]
    visibilities = [
        EVERYONE,
        Visibility.of([Grant("app.read", "team", "myteam")]),
        Visibility.of([Grant("app", "team", "myteam"), Grant("user", "user", "me@x")]),
        Visibility.of([Grant("app", "team", "nobody"), Grant("user", "user", "nobody@x")]),
        Visibility.of([Grant("cluster", "global"), Grant("user", "user", "me@x")]),
    ]
    pages = [(1, 0), (2, 1), (3, 0), (5, 2), (4, 7), (100, 0), (3, 20), (2, 21)]
    for args, seen, (limit, skip) in itertools.product(filters, visibilities, pages):
        flt = EventFilter.parse(
            {k: v if isinstance(v, list) else [v] for k, v in args.items()}
            | {"limit": [str(limit)], "skip": [str(skip)]}
        )
        visible = [
            r for r in records if flt.matches(r) and (seen.everything or seen.allows(r.allowed))
        ]
        hits = sorted(visible, key=lambda r: (r.start_time, r.id))
        expected = [r.id for r in reversed(hits)][skip : skip + limit]
        got = [r.id for r in store.find(flt, seen)]
        assert got == expected, (args, limit, skip)
        if isinstance(store, MongoEventStore):
            simple = simple_find(store.col, flt, event_query(flt, seen) or {})
            assert [r.id for r in simple] == expected, (args, limit, skip)


class _Seen:
    """The collection, recording each filter a page's reads send."""

    def __init__(self, col: Any) -> None:
        self.col, self.filters = col, []

    def find(self, where: dict, *args: Any, **kw: Any) -> Any:
        self.filters.append(where)
        return self.col.find(where, *args, **kw)


def test_events_newest_pages_walk_an_index(events_db: Database) -> None:
    """Every query of a page with an equality (a target, the running events, a
    caller's contexts, an owner, kinds) is served by an index, whatever else the
    filter holds (SecantusDB scans the whole collection for a query with a second
    equality or an ``$in``)."""
    MongoEventStorage(events_db).ensure_indexes()
    store = MongoEventStore(events_db)
    now = datetime.now(UTC).replace(microsecond=0)
    for doc in _spread_docs(now):
        events_db[EVENTS].insert_one(doc)
    seen = _Seen(store.col)
    store._newest.col = seen
    member = Visibility.of([Grant("app", "team", "myteam"), Grant("user", "user", "me@x")])
    cases: list[tuple[dict[str, list[str]], Visibility]] = [
        ({"target.value": ["a1"], "kindname": ["k1"], "ownertype": ["user"]}, EVERYONE),
        ({"target.value": ["a1"], "since": [(now - timedelta(seconds=60)).isoformat()]}, member),
        ({"running": ["true"], "kindtype": ["permission"]}, EVERYONE),
        ({"kindtype": ["permission"], "erroronly": ["true"]}, member),
        ({"ownername": ["tok"], "kindname": ["k0"]}, EVERYONE),
        ({"kindname": ["k0", "k1"], "until": [now.isoformat()]}, EVERYONE),
    ]
    for args, visibility in cases:
        seen.filters.clear()
        store.find(EventFilter.parse({**args, "limit": ["3"]}), visibility)
        assert seen.filters, args
        for where in seen.filters:
            plan = store.col.find(where).sort(NEWEST).explain()["queryPlanner"]["winningPlan"]
            assert "COLLSCAN" not in stages(plan), (args, where)
            assert "IXSCAN" in stages(plan), (args, where)
