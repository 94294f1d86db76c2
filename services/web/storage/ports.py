"""Where sessions live: any dashboard instance must find a session another made."""

from __future__ import annotations

from typing import Protocol

from services.web.domain.session import Session


class SessionStore(Protocol):
    def put(self, sid: str, session: Session) -> None:
        """Store (or replace) the session known by ``sid``."""

    def get(self, sid: str) -> Session | None:
        """The session, or None when unknown, unreadable or tampered with."""

    def delete(self, sid: str) -> None:
        """Forget the session (absent: nothing to do)."""

    def sweep(self, now: float) -> int:
        """Remove the sessions that ended before ``now``; how many were removed."""
