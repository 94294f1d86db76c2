"""MongoDB client factory and idempotent index creation.

Clients are made per process after fork (PyMongo is not fork-safe): call
``connect`` inside ``create_app`` or a worker's main, never at import time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, MongoClient
from pymongo.database import Database

Doc = dict[str, Any]
Db = Database[Doc]
Client = MongoClient[Doc]


def connect(url: str, *, timeout_ms: int = 5000, socket_timeout: float = 30.0) -> Client:
    """A client that gives up instead of hanging: ``timeout_ms`` to find and connect to
    the server, ``socket_timeout`` seconds for any answer (a hung server then raises
    NetworkTimeout, which the services answer with 503)."""
    return MongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=int(socket_timeout * 1000),
        tz_aware=True,
        connect=False,
    )


@dataclass(frozen=True)
class Index:
    """An index declared in code; ``ensure_indexes`` creates it if missing."""

    collection: str
    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def index_name(self) -> str:
        return self.name or "_".join(f"{k}_{d}" for k, d in self.keys)


def ensure_indexes(db: Db, indexes: Iterable[Index]) -> None:
    """Create every declared index; running it again (or concurrently) changes nothing."""
    for ix in indexes:
        db[ix.collection].create_index(
            list(ix.keys), unique=ix.unique, name=ix.index_name(), **ix.options
        )


def asc(*names: str) -> list[tuple[str, int]]:
    return [(n, ASCENDING) for n in names]
