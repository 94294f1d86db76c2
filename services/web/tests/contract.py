"""One contract for every session store (memory and files pass the same cases)."""

from __future__ import annotations

from collections.abc import Callable

from services.web.domain.session import Session, new_id
from services.web.storage.ports import SessionStore


def session(expires: float = 2000.0, email: str = "ana@example.com") -> Session:
    return Session(email, "tok-" + new_id(), new_id(), 1000.0, expires, admin=False)


class SessionStoreContract:
    make: Callable[[], SessionStore]

    def test_put_then_get(self) -> None:
        store, sid, s = self.make(), new_id(), session()
        store.put(sid, s)
        assert store.get(sid) == s

    def test_unknown_id_is_none(self) -> None:
        store = self.make()
        store.put(new_id(), session())
        assert store.get(new_id()) is None
        assert store.get("") is None

    def test_put_replaces(self) -> None:
        store, sid = self.make(), new_id()
        store.put(sid, session(email="a@example.com"))
        store.put(sid, session(email="b@example.com"))
        found = store.get(sid)
        assert found is not None and found.email == "b@example.com"

    def test_delete(self) -> None:
        store, sid = self.make(), new_id()
        store.put(sid, session())
        store.delete(sid)
        store.delete(sid)  # twice: nothing to do
        assert store.get(sid) is None

    def test_sweep_removes_ended_sessions_only(self) -> None:
        store, old, live = self.make(), new_id(), new_id()
        store.put(old, session(expires=1500.0))
        store.put(live, session(expires=3000.0))
        assert store.sweep(2000.0) == 1
        assert store.get(old) is None
        assert store.get(live) is not None
