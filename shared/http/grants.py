"""Grants of a caller whose identity header did not carry them (shared/identity.py).

The header names the subject and a digest of its grants. ``GrantsCache`` maps
``(kind, name, digest)`` to the grants, bounded (LRU); a miss asks a ``GrantSource``
(the auth service over HTTP, or the auth service's own storage inside it). When
someone's roles change the gateway's next introspection signs a new digest, which
misses here: no invalidation message is needed and a stale entry is never used.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Protocol

from shared.client import InternalClient
from shared.errors import AUTH_UNAVAILABLE, Unauthorized, Unavailable
from shared.identity import Grant, Identity, grants_digest

log = logging.getLogger(__name__)

GRANTS_PATH = "/internal/grants"
DEFAULT_ENTRIES = 4096


class GrantSource(Protocol):
    def grants_of(self, kind: str, name: str) -> tuple[Grant, ...] | None:
        """The subject's effective grants now; None when the subject does not exist."""
        ...


class GrantsCache:
    def __init__(self, source: GrantSource, *, max_entries: int = DEFAULT_ENTRIES) -> None:
        self._source = source
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str, str], tuple[Grant, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def complete(self, identity: Identity) -> Identity:
        """The identity with its grants; raises Unauthorized for a vanished subject."""
        digest = identity.deferred_grants
        if not digest:
            return identity
        key = (identity.kind, identity.name, digest)
        with self._lock:
            grants = self._entries.get(key)
            if grants is not None:
                self._entries.move_to_end(key)
        if grants is None:
            fetched = self._source.grants_of(identity.kind, identity.name)
            if fetched is None:
                raise Unauthorized()
            grants = fetched
            # Filed under the digest of what we got: if the roles changed since the
            # gateway signed, these newer grants are used and the old digest stays a miss.
            self._store((identity.kind, identity.name, grants_digest(grants)), grants)
        return replace(identity, grants=grants, deferred_grants="")

    def _store(self, key: tuple[str, str, str], grants: tuple[Grant, ...]) -> None:
        with self._lock:
            self._entries[key] = grants
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


class HttpGrantSource:
    """``POST {auth}/internal/grants`` with ``{"kind", "name"}`` (docs/contracts.md).

    200 ``{"grants": [[scheme, ctx_type, ctx_value], ...]}``; 404: no such subject.
    No auth instance answering: the client's 503 for the caller.
    """

    def __init__(self, auth: InternalClient) -> None:
        self._auth = auth

    def grants_of(self, kind: str, name: str) -> tuple[Grant, ...] | None:
        body = self._auth.post(GRANTS_PATH, json={"kind": kind, "name": name}, absent=None)
        if body is None:
            return None
        try:
            return tuple(Grant.from_json(g) for g in body["grants"])
        except (KeyError, TypeError, ValueError) as exc:
            log.error("grants lookup answered an unreadable body: %r", exc)
            raise Unavailable(AUTH_UNAVAILABLE) from exc
