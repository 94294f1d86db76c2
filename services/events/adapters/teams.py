"""Asking the auth service how many teams exist (webhook team-owner auto-choice)."""

from __future__ import annotations

from shared.client import InternalClient


class TeamDirectory:
    """``only_team()``: the single team of the system, or None when 0 or several."""

    def __init__(self, auth: InternalClient) -> None:
        self.auth = auth

    def only_team(self) -> str | None:
        names = self.auth.get("/internal/teams")
        return str(names[0]) if isinstance(names, list) and len(names) == 1 else None
