"""In-memory session store for unit tests (passes tests/contract.py)."""

from __future__ import annotations

import threading

from services.web.domain.session import Session


class MemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def put(self, sid: str, session: Session) -> None:
        with self._lock:
            self._sessions[sid] = session

    def get(self, sid: str) -> Session | None:
        with self._lock:
            return self._sessions.get(sid)

    def delete(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def sweep(self, now: float) -> int:
        with self._lock:
            ended = [sid for sid, s in self._sessions.items() if s.expired(now)]
            for sid in ended:
                del self._sessions[sid]
            return len(ended)
