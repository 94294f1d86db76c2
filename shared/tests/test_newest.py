"""Integration: newest-first windows equal the simple sorted query and walk an index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.mongo import Index, connect, ensure_indexes
from shared.newest import newest_first
from shared.testing.plans import stages

pytestmark = pytest.mark.integration


class _Seen:
    def __init__(self, col: Any) -> None:
        self.col, self.filters = col, []

    def find(self, where: dict) -> Any:
        self.filters.append(where)
        return self.col.find(where)


def test_windows_are_the_simple_query_and_walk_an_index(mongo_url: str, namespace: str) -> None:
    client = connect(mongo_url)
    db = client[f"{namespace}_newest_test"]
    ensure_indexes(
        db, [Index("runs", [("start", -1)]), Index("runs", [("kind", 1), ("start", -1)])]
    )
    now = datetime.now(UTC).replace(microsecond=0)
    offsets = [-90, 0, 0, 0, 5, 3599, 3600, 3601, 9 * 3600, 3 * 86_400, 30 * 86_400,
               2 * 365 * 86_400, 50 * 365 * 86_400, 60 * 365 * 86_400]  # fmt: skip
    for i, offset in enumerate(offsets):
        db.runs.insert_one(
            {"_id": f"r{i:02d}", "kind": "ab"[i % 2], "start": now - timedelta(seconds=offset)}
        )
    seen = _Seen(db.runs)
    try:
        for match in ({}, {"kind": "a"}, {"kind": "b"}, {"kind": "none"}):
            simple = list(db.runs.find(match).sort([("start", -1), ("_id", -1)]))
            for want in (1, 2, 4, 5, 9, 14, 100):
                got = newest_first(seen, match, "start", want, now=now)
                assert [d["_id"] for d in got] == [d["_id"] for d in simple[:want]], (match, want)
        for where in seen.filters:
            plan = db.runs.find(where).explain()["queryPlanner"]["winningPlan"]
            assert "COLLSCAN" not in stages(plan) and "IXSCAN" in stages(plan), where
    finally:
        client.drop_database(db.name)
        client.close()
